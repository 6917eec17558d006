"""``nerxl hub serve``: a local Hub-compatible server, to try publishing and loading by name
without an account (:class:`nerxl_data.testing.hub_server.HubServer`, kept on disk)."""

from __future__ import annotations

import click


@click.group("hub")
def hub() -> None:
    """A local Hub to publish to and load from."""


@hub.command("serve")
@click.option("--root", required=True, type=click.Path(file_okay=False),
              help="Folder the repos are kept in; a server restarted on it serves the same repos.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--max-gb", type=click.FloatRange(min=0, min_open=True), default=4.0, show_default=True,
              help="Total upload size the server accepts.")
def serve_cmd(root, port, max_gb) -> None:
    """Serve a local Hub on 127.0.0.1 until Ctrl-C; print its URL and the variables to export."""
    from pathlib import Path

    from ..testing.hub_server import HubServer

    Path(root).mkdir(parents=True, exist_ok=True)
    server = HubServer(port=port, max_bytes=int(max_gb * 2**30), idle_timeout=None, user="nerxl-local", root=root)
    n = len(server.repos)
    click.echo(f"local Hub at {server.url}, repos in {root} ({n} so far); in another shell:")
    click.echo(f"export HF_ENDPOINT={server.url} HF_HUB_DISABLE_XET=1 HF_TOKEN=hf_local")
    click.echo("then e.g. nerxl publish build/masakhaner2 --repo me/masakhaner2-silver and "
               "datasets.load_dataset('me/masakhaner2-silver', CONFIG); Ctrl-C stops the server", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


commands = [hub]
