"""Application commands: handlers `handler(uow, *args)` that load → decide → save.

They run through the unit of work (`unit_of_work.execute`, or `dispatch` from the API's event
loop), which owns loading, the account policy, the one atomic save and the retries.
"""
