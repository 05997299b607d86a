"""The broker's pass-through, for the ingest benchmarks: ``python -m smartgov.iot.sink --topic <filter>``.

The shared ingest worker (same paho client, shared subscription, manual PUBACK after each batch) with a
``store`` that keeps nothing. The ingest benchmarks publish the same messages through it the same way they
publish to the real workers, so ``broker_passthrough_*`` is what Mosquitto and the MQTT client alone allow
on this machine — the ceiling beside the raw database load. It acknowledges what it throws away, so it is
a module for benchmarks, not a ``smartgov`` command an operator could point at a production topic."""

import argparse

import django

from .mqtt import DEFAULT_PREFIX, IngestWorker


class SinkWorker(IngestWorker):
    default_group = "bench-sink"
    client_prefix = "bench-sink"

    def __init__(self, *, topic: str, **kwargs):
        super().__init__(**kwargs)
        self.topic = topic

    def topic_filter(self) -> str:
        return self.topic

    def store(self, batch) -> None:
        self.stored += len(batch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m smartgov.iot.sink", description=__doc__.splitlines()[0])
    parser.add_argument("--topic", required=True, help="topic filter, e.g. bench1234/iot/+/telemetry")
    parser.add_argument("--url", default=None)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--group", required=True)
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--session-expiry", type=int, default=60)
    o = parser.parse_args(argv)
    if not o.group.startswith("bench"):
        parser.error("the sink acknowledges and discards: its group must be a benchmark's (bench…)")

    def report(line):
        print(line, flush=True)

    worker = SinkWorker(topic=o.topic, url=o.url, prefix=o.prefix, group=o.group, client_id=o.client_id,
                        batch_max=o.batch, report=report, session_expiry=o.session_expiry)
    try:
        worker.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # started by the benchmark, whose environment names the settings module
    django.setup()
    main()
