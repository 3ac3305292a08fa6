#!/usr/bin/env bash
# Rebuilds the demo model committed at models/fashion-demo, exactly as it was made:
#   1. Fashion-MNIST's 60,000 training images (Debian package dataset-fashion-mnist, MIT) as MMEB-train rows in two
#      directions: image + classification instruction -> label text, caption + text->image instruction -> image;
#   2. `vlm2vec train` from scratch (train-config.json: a Qwen2-VL of hidden size 48 from model-config.json, the real
#      Qwen2-VL tokenizer, full training, 1,800 steps of 64 pairs, seed 42);
#   3. `vlm2vec convert` to an ONNX bundle with a float16 token-embedding table (the 151,936-row table is most of the
#      model; fp16 storage keeps the bundle under 25 MB);
#   4. `vlm2vec eval` of the bundle on the held-out 10,000-image test set (classification over the 10 label texts, and
#      1,000 text->image queries against 10 images each) -> scores.json / report.md next to the run.
# Usage: tools/demo-model/build.sh [work-folder]   (default /tmp/vlm2vec-demo-model)
# Environment: FASHION_MNIST (IDX folder, default /usr/share/datasets/fashion-mnist), TOKENIZER (folder with the
# Qwen2-VL tokenizer.json, tokenizer_config.json, preprocessor_config.json; default: the one shipped in the bundle),
# INSTALL=1 (apt-get install the dataset if missing), THREADS.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/vlm2vec-demo-model}
fashion=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
here=$repo/tools/demo-model
tokenizer=${TOKENIZER:-$repo/models/fashion-demo}
if [[ ! -f "$fashion/train-images-idx3-ubyte.gz" ]]; then
  if [[ "${INSTALL:-0}" == 1 ]]; then apt-get install -y dataset-fashion-mnist; else
    echo "Fashion-MNIST not found in $fashion: apt-get install dataset-fashion-mnist (or INSTALL=1)" >&2; exit 1; fi
fi
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")

dotnet build "$repo/src/Vlm2Vec.Cli" -c Release -nologo -v q
dotnet build "$repo/benchmarks/Vlm2Vec.Benchmarks" -c Release -nologo -v q
cli=(dotnet "$repo/src/Vlm2Vec.Cli/bin/Release/net10.0/vlm2vec.dll")
prep=(dotnet "$repo/benchmarks/Vlm2Vec.Benchmarks/bin/Release/net10.0/Vlm2Vec.Benchmarks.dll" fashion-mnist)
mkdir -p "$work"

"${prep[@]}" prepare --t2i --source "$fashion" --out "$work/data"
"${prep[@]}" eval-data --source "$fashion" --out "$work/eval-data"

start=$(date +%s)
"${cli[@]}" train --config "$here/train-config.json" --tokenizer "$tokenizer" \
  --data "$work/data/train.jsonl" --output "$work/run" "${threads[@]}"
echo "training wall time: $(( $(date +%s) - start )) s"

"${cli[@]}" convert --from "$work/run/model" --to "$work/bundle" --model-id vlm2vec-fashion-demo --fp16-embeddings --overwrite

"${cli[@]}" eval --model "$work/bundle" --data "$work/eval-data/fashion-mnist_cls.jsonl" \
  --data "$work/eval-data/fashion-mnist_t2i.jsonl" --image-root "$work/eval-data" --out "$work/eval"
echo "bundle: $work/bundle (copy it to $repo/models/fashion-demo to replace the committed one)"
