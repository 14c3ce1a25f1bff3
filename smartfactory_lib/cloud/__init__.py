"""The cloud: IoT rule, Kinesis, the ingest handler, storage, queries and cost.

Each module is one part of the pipeline that carries readings from the broker
into storage: :mod:`.rule` (the IoT rule stand-in), :mod:`.stream` (Kinesis
and the event source mapping stand-in), :mod:`.validation`, :mod:`.scoring`,
:mod:`.handler` (the Lambda function), :mod:`.storage`, :mod:`.resources`,
:mod:`.queries` (Athena stand-in), :mod:`.cost` and :mod:`.pipeline`.
Import what you need from the modules; this package imports nothing eagerly,
so the Lambda handler loads only what it uses.
"""

__all__: list[str] = []
