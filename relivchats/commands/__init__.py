"""Application commands: load an aggregate's events, decide, append — retried on version conflicts.

Commands are synchronous (the event store is): workers call them directly, the API through
`AsyncEventStore.run`.
"""
