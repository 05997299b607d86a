"""EPCIS 2.0 machinery: vocabularies (CBV 2.0), JSON-schema validation, the GS1 event hash, and a
streaming reader for large capture documents. Pure functions; storage lives in ``trace.ingest``."""
