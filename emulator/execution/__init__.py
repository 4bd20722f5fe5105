"""Running function code: the one call pipeline and its runners.

- ``code``: unpacking a function's zip and importing its ``handle()`` (deployment);
- ``capture``: what a call writes (stdout, stderr, logging) into its log, and its env vars;
- ``outcomes``: how a call ended (Completed, Failed, Timeout);
- ``pool``, ``inline``, ``process``: the runners (a pooled worker thread, the inline batch used by
  time travel, a child process);
- ``pipeline``: open record -> arguments -> runner -> close -> trim, for API calls and scheduled runs.
"""
