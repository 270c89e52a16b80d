"""Entry point that runs inside one step's interpreter: ``python -m tutorial.in_step N ...``.

Started by tutorial.in_step.project.run_in_step(); not meant to be typed by hand.
"""

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tutorial.in_step")
    parser.add_argument("step")
    parser.add_argument("action", choices=["receivers", "tour", "bench"])
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--measure", help="bench: which measurement")
    parser.add_argument("--options", default="{}", help="bench: its options, as JSON")
    parser.add_argument("--batch", help="bench: several [measurement, options] pairs, as JSON")
    parser.add_argument("--database", help="bench: keep the scratch database in this file")
    args = parser.parse_args(argv)

    from tutorial.in_step.project import load_step

    # The tour and the bench only need the tables; receivers needs none, as a server.
    from_copy = args.action in ("tour", "bench")
    step = load_step(
        args.step,
        database=args.database,
        from_migrated_copy=from_copy,
        migrated=args.action != "receivers",
    )
    if args.action == "bench":
        import json

        from tutorial.in_step.measurements import MEASUREMENTS

        if args.batch:
            batch = json.loads(args.batch)
            print(json.dumps([MEASUREMENTS[name](options) for name, options in batch]))
        else:
            print(json.dumps(MEASUREMENTS[args.measure](json.loads(args.options))))
    elif args.action == "receivers":
        from tutorial.in_step.inspector import load_as_served, receivers_table, served_connections

        load_as_served()
        served = served_connections()
        table = receivers_table(include_empty=args.all, served=served)
        projects = sum((step.path / row.location.split("/")[0]).is_dir() for row in table)
        count = f"{len(table)} receivers, {projects} of them the project's"
        print(f"A served step {step.number}: {count}\n")
        print(table)
    else:
        from tutorial.in_step.tours import run_tour

        run_tour(step.number)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (`make receivers-7 | head`): stop quietly, as the CLI does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
