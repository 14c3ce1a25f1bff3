"""Virtual Smart Factory: the shared library behind the book.

The package is laid out along the journey of a reading, and each stage depends
only on :mod:`smartfactory_lib.core` and on the stages before it:

``core`` (schema, configuration, AWS clients) -> ``simulation`` -> ``faults``
-> ``transport`` (broker, devices) -> ``cloud`` (rule, stream, handler,
storage, queries, cost) -> ``ml`` -> ``operations`` and ``governance``.

The command line (:mod:`smartfactory_lib.cli`) and the benchmarks
(:mod:`smartfactory_lib.bench`) sit on top; no stage imports them.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
