"""``yobunara serve`` (the service, configured by ``YOBUNARA_*``) and ``yobunara demo``."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="yobunara", description="WEB招待状 Yobunara")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the site (settings from YOBUNARA_*)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    demo = commands.add_parser("demo", help="start mamori and Yobunara side by side")
    demo.add_argument("--mamori-port", type=int, default=8000)
    demo.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        import uvicorn

        from yobunara.web import create_app

        uvicorn.run(create_app(), host=args.host, port=args.port)
    else:
        from yobunara import demo as run_demo

        run_demo.run(mamori_port=args.mamori_port, port=args.port)


if __name__ == "__main__":
    main()
