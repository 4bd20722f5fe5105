"""The build step at deployment: requirements.txt, the declared runtime, the function's environment.

``requirements.py`` parses and validates the requirements, ``runtimes.py`` finds an interpreter for
``runtime``, ``check.py`` checks the running environment, ``install.py`` builds a virtual
environment (uv or pip), ``cache.py`` keeps built environments, ``probe.py`` checks the code in the
interpreter that runs it, ``step.py`` puts them together (docs/calls.md, "The build step").
"""
