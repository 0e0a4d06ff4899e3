"""`mamori policy`: check, render, publish, diff and list policy declarations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mamori.errors import PolicyError

if TYPE_CHECKING:
    from mamori.policy.model import Policy

from mamori.cli.common import CLI_ACTOR, Format, Lang, _runtime, app, err, out

policy_app = typer.Typer(
    help="Check, render, publish and list policy declarations.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def policy_check(
    paths: Annotated[list[Path], typer.Argument(help="Policy files to check.")],
) -> None:
    """Validate policy files; print every problem with its file, line and path."""
    from mamori.policy.loader import read_policy

    failed = 0
    for path in paths:
        try:
            loaded = read_policy(path)
        except PolicyError as exc:
            failed += 1
            for problem in exc.problems:
                out.print(str(problem))
            err.print(f"{path}: {exc.message}")
        else:
            policy = loaded.policy
            out.print(
                f"{path}: OK ({len(policy.items)} items, {len(policy.purposes)} purposes, "
                f"{len(policy.cookies.services)} cookie services, "
                f"content hash {loaded.content_hash[:16]})"
            )
    if failed:
        raise typer.Exit(2)


@policy_app.command("render")
def policy_render(
    path: Annotated[Path, typer.Argument(help="Policy file to render.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the text.")] = Lang.ja,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.html,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Render the policy as people read it (a full HTML page or Markdown)."""
    from mamori.policy.loader import load_policy
    from mamori.policy.render import render_policy, render_policy_page

    policy = load_policy(path)
    if fmt is Format.html:
        text = render_policy_page(policy, lang=lang.value)
    else:
        text = render_policy(policy, lang=lang.value, fmt="md")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@policy_app.command("publish")
def policy_publish(
    path: Annotated[Path, typer.Argument(help="Policy file to publish.")],
    lang: Annotated[
        Lang, typer.Option("--lang", help="Language of the change explanation.")
    ] = Lang.ja,
) -> None:
    """Publish a policy file as a new version when it differs from the current one.

    Prints and records how the change is classified: cosmetic, notify (people get a notice)
    or consent_required (reads for the new uses wait for each person's consent).
    """
    from mamori.policy.loader import read_policy
    from mamori.publication.publish import publish_policy, report

    loaded = read_policy(path)
    runtime = _runtime(initialise=False)
    try:
        published = publish_policy(
            runtime.engine, loaded, actor=CLI_ACTOR, zone=runtime.settings.time_zone
        )
    finally:
        runtime.close()
    result = published.result
    if not result.created:
        out.print(f"unchanged: version {result.version} already has this content")
        return
    out.print(f"published version {result.version}", markup=False)
    if published.diff is not None:
        for line in report(published.diff, lang.value):
            out.print(line, markup=False)


@policy_app.command("diff")
def policy_diff(
    old: Annotated[str, typer.Argument(help="Earlier policy: a file, or a published version.")],
    new: Annotated[str, typer.Argument(help="Later policy: a file, or a published version.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the explanation.")] = Lang.ja,
) -> None:
    """Explain in words what changed between two policies, and classify the change.

    OLD and NEW are policy files or published version numbers (`3` or `v3`). The
    classification is cosmetic, notify or consent_required (see the how-to on policy changes).
    """
    from mamori.policy.diff import diff_policies
    from mamori.publication.publish import report

    before = _policy_of(old)
    after = _policy_of(new)
    for line in report(diff_policies(before, after), lang.value):
        out.print(line, markup=False)


def _policy_of(ref: str) -> Policy:
    import re

    from mamori.policy.loader import load_policy, parse_policy

    path = Path(ref)
    match = re.fullmatch(r"v?(\d+)", ref)
    if path.exists() or match is None:
        return load_policy(path)
    from mamori.publication import versions

    runtime = _runtime()
    try:
        version = versions.get(runtime.engine, int(match.group(1)))
    finally:
        runtime.close()
    return parse_policy(version.source_yaml, f"policy version {version.version}")


@policy_app.command("versions")
def policy_versions() -> None:
    """List published policy versions, oldest first."""
    from mamori.publication import versions

    runtime = _runtime()
    try:
        published = versions.versions(runtime.engine)
    finally:
        runtime.close()
    table = Table("version", "policy", "effective", "published (UTC)", "content hash")
    for v in published:
        table.add_row(
            str(v.version),
            v.policy_id,
            v.effective_date.isoformat(),
            v.published_at.strftime("%Y-%m-%d %H:%M:%S"),
            v.content_hash[:16],
        )
    out.print(table)
