"""Compare: one prompt to 2–6 models at once.

`run` streams every model in its own worker thread; `stats` turns the replies into tables of numbers; `links`
reads the `?models=` of a shared link. The comparison itself is a `gateway.conversation.Conversation` of kind
"compare", exported by `gateway.exports` like a chat.
"""

from gateway.compare.run import MAX_MODELS, MIN_MODELS, CompareRun, Job, jobs_for, run_all

__all__ = ["MAX_MODELS", "MIN_MODELS", "CompareRun", "Job", "jobs_for", "run_all"]
