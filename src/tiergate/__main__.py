"""The `tiergate` command and `python -m tiergate`: the CLI, in a process tuned to start fast."""

import gc


def main() -> None:
    """Run the CLI. Starting a command allocates a few hundred thousand long-lived objects
    (the modules it imports, the rulebook, the matching settings), and the collector's
    default thresholds ran many passes over them: about 0.05-0.1 s of a 0.6 s `screen`
    (benchmarks/startup.py). Cycles are still collected, only less often; a long check pauses
    the collector around its own bursts as before (`tiergate.gcpause`)."""
    gc.set_threshold(100_000, 50, 100)
    from tiergate.cli import main as run

    run()


if __name__ == "__main__":
    main()
