"""Server logs (bubble-semantics.md §2.11): what each workflow run did, kept in the
environment's database. `redact` hides secrets, `runlog` records a run, `search` reads the
log back. See docs/logs.md."""
