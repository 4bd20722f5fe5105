"""Running function code: the one call pipeline and its runners.

- ``code``: unpacking a function's zip and importing its ``handle()`` (deployment);
- ``modules``: each deployed function version's own modules; ``sources``: its files named after the
  user's own (``code_from="source"``);
- ``capture`` (with ``threads`` and ``guards``): what a call writes (stdout, stderr, logging,
  warnings, also from threads it starts) into its log; what would harm the test process, refused;
- ``environment``, ``workdir``: a call's own env vars and working directory;
- ``outcomes``: how a call ended (Completed, Failed, Timeout);
- ``pool``, ``inline``, ``process``: the runners (a pooled worker thread, the inline batch used by
  time travel, a child process);
- ``pipeline``: open record -> arguments -> runner -> close -> trim, for API calls and scheduled runs.
"""
