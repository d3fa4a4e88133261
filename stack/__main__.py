"""``make run``: start everything, print where to chat and where agents work; Ctrl-C stops it all."""

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Optional

from handoff.settings import positive_int
from stack.local import DATA_DIR, local_agents_file, local_key_rings, local_metrics_token
from stack.services import Stack, StackConfig


def main() -> None:
    data_keys, audit_keys = local_key_rings()
    agents_file, password = local_agents_file()
    stack = Stack(
        StackConfig(
            data_dir=DATA_DIR,
            data_keys=data_keys,
            audit_keys=audit_keys,
            agents_file=agents_file,
            redis_url=os.environ.get("REDIS_URL"),
            tls_certificate=Path(os.environ["HANDOFF_TLS_CERT"]) if os.environ.get("HANDOFF_TLS_CERT") else None,
            tls_key=Path(os.environ["HANDOFF_TLS_KEY"]) if os.environ.get("HANDOFF_TLS_KEY") else None,
            rasa_workers=positive_int(os.environ, "SANIC_WORKERS", 1),
            metrics_token=local_metrics_token(),
        )
    )

    def stop(signum: int, _: Optional[FrameType]) -> None:
        print("\nStopping every process this run started...", flush=True)
        stack.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("Starting Redis, training the model if data changed, starting servers...", flush=True)
    stack.start()
    print(f"\nPatient chat page:  {stack.patient_page_url}")
    print(f"Patient REST hook:  {stack.patient_webhook_url}")
    print(f"Agent console:      {stack.console_url}")
    print(f"Rasa workers:       {stack.config.rasa_workers} (SANIC_WORKERS)")
    kept = "" if os.environ.get("METRICS_TOKEN") else " (stored in .data/metrics-token)"
    print(f"Metrics:            {stack.console_url}metrics, {stack.patient_webhook_url.rsplit('/', 1)[0]}/metrics")
    print(f"  Prometheus: authorization: {{credentials: <METRICS_TOKEN>}}{kept}")
    if password:
        print(f"  demo agent login: demo / {password}  (stored in .data/demo-agent-password)")
    print(f"Logs:               {stack.log_dir}/\nPress Ctrl-C to stop.", flush=True)
    while True:
        for process in stack.processes:
            if process.poll() is not None:
                print(f"{process.args!r} exited with {process.returncode}; stopping.", flush=True)
                stack.stop()
                sys.exit(1)
        time.sleep(1)


if __name__ == "__main__":
    main()
