"""``textclf predict MODEL TEXT…``: score texts with the model served on the cluster, or (``--local``)
with a trained artifact loaded in this process. Both print the same.

On a cluster, MODEL is a TextClassifierModel with ``spec.serving.enabled``; the texts go to its
predictor through the API server's service proxy (``textclf.cluster.served``), with the kubeconfig's
credentials, so no port-forward is needed. With ``--local`` it is a run name (looked up under the runs
folder) or an artifact folder/URI. Texts come from the arguments, or from ``--file`` (one text per
line; ``-`` for stdin). Output: for each text its concepts, highest score first, filtered as
Clarifai's output_config does (``--select-concepts``, ``--min-value``, ``--max-concepts``);
``--json`` prints one JSON object per text.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from textclf.api.serving import Concept
from textclf.cli import localruns

NAME = "predict"
HELP = (
    "Predict the concepts of texts with a served model, or a trained one on this machine (--local)."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="TextClassifierModel name; with --local, a run name or artifact folder/URI"
    )
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--local", action="store_true", help="predict in this process")
    parser.add_argument("-n", "--namespace", help="the model's namespace (default: the context's)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--file", help="file with one text per line ('-' for stdin)")
    parser.add_argument("--runs-dir", help="runs folder (default ./runs or $TEXTCLF_RUNS_DIR)")
    parser.add_argument("--select-concepts", help="comma-separated concepts to return")
    parser.add_argument("--min-value", type=float, help="drop concepts scoring below this")
    parser.add_argument("--max-concepts", type=int, help="return at most this many concepts")
    parser.add_argument("--batch-size", type=int, default=32, help="--local: texts per pass")
    parser.add_argument("--json", action="store_true", help="JSON lines output")


def read_texts(args: argparse.Namespace) -> list[str]:
    texts = list(args.texts)
    if args.file:
        content = (
            sys.stdin.read()
            if args.file == "-"
            else pathlib.Path(args.file).read_text(encoding="utf-8")
        )
        texts += [line for line in content.splitlines() if line.strip()]
    return texts


def _local(args: argparse.Namespace, texts: list[str]) -> list[list[Concept]]:
    location = localruns.artifact_location(args.model, localruns.runs_dir(args.runs_dir))
    from textclf_trainer import entrypoint, predictor  # noqa: PLC0415  (torch: lazily)

    entrypoint.quiet_libraries()
    model = predictor.Predictor.load(location)
    return model.predict(
        texts,
        select_concepts=_selected(args),
        min_value=args.min_value,
        max_concepts=args.max_concepts,
        batch_size=args.batch_size,
    )


def _served(args: argparse.Namespace, texts: list[str]) -> list[list[Concept]]:
    try:
        from textclf.cluster import connect, served  # noqa: PLC0415  (the cli extra: lazily)
    except ImportError:
        raise SystemExit(
            "textclf predict needs the Kubernetes client: pip install 'textclf[cli]'"
        ) from None
    conn = connect.connect(args.namespace, context=args.context)
    try:
        return served.predict(
            conn,
            args.model,
            texts,
            select_concepts=_selected(args),
            min_value=args.min_value,
            max_concepts=args.max_concepts,
        )
    except served.NotServed as exc:
        raise ValueError(str(exc)) from None
    finally:
        conn.close()


def _selected(args: argparse.Namespace) -> list[str] | None:
    return [c.strip() for c in args.select_concepts.split(",")] if args.select_concepts else None


def run(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    if not texts:
        sys.stderr.write("textclf predict: no texts (give them as arguments or with --file)\n")
        return 2
    try:
        outputs = _local(args, texts) if args.local else _served(args, texts)
    except (ValueError, FileNotFoundError) as exc:
        sys.stderr.write(f"textclf predict: {exc}\n")
        return 2
    for text, concepts in zip(texts, outputs, strict=True):
        if args.json:
            print(json.dumps({"text": text, "concepts": [c.to_dict() for c in concepts]}))
        else:
            shown = text if len(text) <= 60 else text[:57] + "..."
            scored = ", ".join(f"{c.name} {c.value:.3f}" for c in concepts)
            print(f"{shown!r}: {scored}")
    return 0
