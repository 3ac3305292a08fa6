#!/usr/bin/env bash
# The training experiment of docs/training.md:
#   1. a small randomly initialised Qwen2-VL (model-config.json: hidden 64, 2+2 layers, the real Qwen2-VL tokenizer)
#      trained from scratch with `vlm2vec train` on Fashion-MNIST (60k train) as image -> label-text retrieval with
#      MMEB's classification instruction, then image -> label P@1 over the 10 label texts on the 10k test set;
#   2. DoRA on top of that model adapts it to Caltech-101 (shared/data: 7 images per class to train, 3 to test, 101
#      class names); P@1 before and after.
# Usage: tools/experiments/fashion-mnist.sh [work-folder]   (default /tmp/vlm2vec-fashion-mnist)
# Environment: THREADS (libtorch threads, default: one per core), FASHION_MNIST (IDX folder with the 60k training set,
# default /usr/share/datasets/fashion-mnist from `apt-get install dataset-fashion-mnist`), VLM2VEC_SHARED_DATA,
# FASHION_MODEL (skip step 1 and adapt this Hugging Face model folder instead, e.g. the demo model's checkpoint
# <work>/run/model from tools/demo-model/build.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/vlm2vec-fashion-mnist}
fashion=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
shared=${VLM2VEC_SHARED_DATA:-}
if [[ -z "$shared" ]]; then
  dir=$repo
  while [[ "$dir" != / && ! -f "$dir/shared/data/README.md" ]]; do dir=$(dirname "$dir"); done
  shared=$dir/shared/data
fi
[[ -f "$shared/tokenizer/qwen2-vl/tokenizer.json" ]] || { echo "shared/data not found (set VLM2VEC_SHARED_DATA)" >&2; exit 1; }
[[ -f "$fashion/train-images-idx3-ubyte.gz" ]] || { echo "Fashion-MNIST training set not found in $fashion (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")

here=$repo/tools/experiments/fashion-mnist
cli=(dotnet "$repo/src/Vlm2Vec.Cli/bin/Release/net10.0/vlm2vec.dll")
bench=(dotnet "$repo/benchmarks/Vlm2Vec.Benchmarks/bin/Release/net10.0/Vlm2Vec.Benchmarks.dll")
stamp() { echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg): $*"; }

stamp "build"
dotnet build "$repo/src/Vlm2Vec.Cli" -c Release -nologo -v q
dotnet build "$repo/benchmarks/Vlm2Vec.Benchmarks" -c Release -nologo -v q
mkdir -p "$work"

model=${FASHION_MODEL:-$work/fashion/model}
if [[ -z "${FASHION_MODEL:-}" ]]; then
  stamp "prepare Fashion-MNIST"
  "${bench[@]}" fashion-mnist prepare --source "$fashion" --out "$work/fashion-data"

  stamp "train from scratch (full)"
  start=$(date +%s)
  "${cli[@]}" train --config "$here/train-config.json" --tokenizer "$shared/tokenizer/qwen2-vl" \
    --data "$work/fashion-data/train.jsonl" --output "$work/fashion" "${threads[@]}"
  echo "fashion-mnist training wall time: $(( $(date +%s) - start )) s"
fi

stamp "evaluate on the 10k test set"
"${bench[@]}" fashion-mnist eval --source "$fashion" --model "$model"

stamp "prepare Caltech-101 (7 train / 3 test per class)"
VLM2VEC_SHARED_DATA=$shared "${bench[@]}" caltech-lora prepare --out "$work/caltech-data"

stamp "Caltech-101 P@1 of the Fashion-MNIST model (before adaptation)"
"${bench[@]}" caltech-lora eval --model "$model" --data "$work/caltech-data" --max-pixels 3136

stamp "DoRA adaptation to Caltech-101"
start=$(date +%s)
"${cli[@]}" train --config "$here/caltech-lora-config.json" --model "$model" \
  --data "$work/caltech-data/train.jsonl" --output "$work/caltech" "${threads[@]}"
echo "caltech adaptation wall time: $(( $(date +%s) - start )) s"

stamp "Caltech-101 P@1 with the adapter"
"${bench[@]}" caltech-lora eval --model "$model" --adapter "$work/caltech/adapter" --data "$work/caltech-data" --max-pixels 3136
stamp "done"
