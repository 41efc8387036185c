"""Joins Diffuse's suite output with the PyTorch peer's: checks that both build the same network
(parameter count and forward FLOPs per image, exactly) and prints Diffuse / PyTorch per row.
Usage: python3 bench/peer/compare.py OUT PRESET...   (reads OUT/presets.json, OUT/suite.json when
present, OUT/peer-<preset>.json; writes OUT/peer.md and OUT/peer.json). Exit status 1 on a mismatch."""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    out, presets = sys.argv[1], sys.argv[2:]
    diffuse_presets = {p["preset"]: p for p in load(os.path.join(out, "presets.json"))}
    suite_path = os.path.join(out, "suite.json")
    suite = load(suite_path) if os.path.exists(suite_path) else None
    lines, ratios, ok = [], [], True
    lines.append("| preset | parameters (Diffuse / PyTorch) | forward FLOPs per image (Diffuse / PyTorch) | same network |")
    lines.append("|---|---:|---:|---|")
    peers = {}
    for name in presets:
        peer = peers[name] = load(os.path.join(out, f"peer-{name}.json"))
        mine = diffuse_presets[name]
        same = mine["parameters"] == peer["parameters"] and mine["forward_flops_per_image"] == peer["forward_flops_per_image"]["total"]
        ok &= same
        lines.append(f"| {name} | {mine['parameters']:,} / {peer['parameters']:,} | {mine['forward_flops_per_image']:,} / "
                     f"{peer['forward_flops_per_image']['total']:,} | {'yes' if same else 'NO'} |")
    if suite is not None:
        lines += ["", f"Diffuse threads {suite['threads']}; PyTorch {next(iter(peers.values()))['torch']} threads {next(iter(peers.values()))['threads']}", "",
                  "| preset | precision | batch | measure | Diffuse | PyTorch | Diffuse / PyTorch |", "|---|---|---:|---|---:|---:|---:|"]
        measures = [("forward GFLOP/s", "forward_gflop_per_second"), ("train images/s", "train_images_per_second"),
                    ("sample images/s", "sample_images_per_second")]
        for row in suite["rows"]:
            if row["preset"] not in peers:
                continue
            match = [r for r in peers[row["preset"]]["rows"] if r["precision"] == row["precision"] and r["batch"] == row["batch"]]
            if not match:
                continue
            for label, key in measures:
                d, p = row.get(key), match[0].get(key)
                ratio = d / p if d is not None and p else None
                ratios.append({"preset": row["preset"], "precision": row["precision"], "batch": row["batch"], "measure": key,
                               "diffuse": d, "pytorch": p, "ratio": ratio})
                fmt = lambda v: "n/a" if v is None else f"{v:.2f}"
                lines.append(f"| {row['preset']} | {row['precision']} | {row['batch']} | {label} | {fmt(d)} | {fmt(p)} | {fmt(ratio)} |")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(os.path.join(out, "peer.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "peer.json"), "w") as f:
        json.dump({"same_network": ok, "ratios": ratios}, f, indent=2)
    if not ok:
        print("error: the PyTorch peer does not build the same network as Diffuse (parameters or FLOPs differ)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
