using Vlm2Vec.TorchSharp.Peft;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Everything a contrastive training run needs besides its data: where the model comes from, the loss, batching and
/// GradCache, which parameters train, the optimiser and schedule, precision, seed, checkpoints and outputs. Defaults
/// follow VLM2Vec (spec §1.5–§1.9) where it has one; batch size and warmup are scaled for single-machine runs.
/// </summary>
public sealed record ContrastiveTrainingOptions
{
    // ---- Model -------------------------------------------------------------------------------------------------

    /// <summary>
    /// A Hugging Face Qwen2-VL folder to start from (weights, <c>config.json</c>, tokenizer and
    /// <c>preprocessor_config.json</c>). Exactly one of this and <see cref="InitConfigPath"/> is required.
    /// </summary>
    public string? BaseModelFolder { get; init; }

    /// <summary>
    /// A PEFT adapter to continue training (LoRA mode, on <see cref="BaseModelFolder"/>): its weights are loaded into
    /// the injected modules and its config replaces <see cref="Adapter"/>.
    /// </summary>
    public string? InitialAdapterFolder { get; init; }

    /// <summary>
    /// A <c>config.json</c> for a randomly initialised model (training from scratch, <see cref="FineTuningMode.Full"/>);
    /// <see cref="TokenizerFolder"/> then supplies the tokenizer and image-processor files.
    /// </summary>
    public string? InitConfigPath { get; init; }

    /// <summary>Seed of the random initialisation with <see cref="InitConfigPath"/> (null: <see cref="Seed"/>).</summary>
    public long? InitSeed { get; init; }

    /// <summary>
    /// Folder with <c>tokenizer.json</c>, <c>tokenizer_config.json</c> and <c>preprocessor_config.json</c> (required
    /// with <see cref="InitConfigPath"/>; with <see cref="BaseModelFolder"/> the base folder's own files are used when null).
    /// </summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>Parameter dtype: float32 (default) or bfloat16 (as the reference trains; adapters stay float32).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// Preprocessing (prompt style, token limit, image pixel budget). Pixel-budget overrides are written into the
    /// outputs' <c>preprocessor_config.json</c>, so that serving prepares images exactly as training did.
    /// </summary>
    public PreprocessorOptions Preprocessing { get; init; } = new();

    // ---- Output ------------------------------------------------------------------------------------------------

    /// <summary>The run folder: checkpoints, the step log, the resolved options and the final adapter/model.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Whether to continue from a checkpoint of <see cref="OutputFolder"/> (default <see cref="ResumeBehavior.Auto"/>).</summary>
    public ResumeBehavior Resume { get; init; } = ResumeBehavior.Auto;

    /// <summary>Resume from this checkpoint folder instead of the output folder's latest.</summary>
    public string? ResumeFromCheckpoint { get; init; }

    /// <summary>Save a checkpoint every this many optimiser steps (and always at the end and on cancellation); 0 for only those.</summary>
    public int SaveEverySteps { get; init; } = 500;

    /// <summary>How many step checkpoints to keep (the oldest are deleted); at least 1.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>In LoRA mode, also write the adapter merged into the base weights as a full model folder (<c>model/</c>).</summary>
    public bool MergeAdapter { get; init; }

    // ---- Loss --------------------------------------------------------------------------------------------------

    /// <summary>InfoNCE temperature τ (VLM2Vec: 0.02).</summary>
    public double Temperature { get; init; } = ContrastiveLoss.DefaultTemperature;

    /// <summary>Add the target→query direction to the loss (the reference is query→target only).</summary>
    public bool SymmetricLoss { get; init; }

    /// <summary>
    /// Hard negatives per query (K, spec §1.6): targets are laid out <c>[pos, neg_1..neg_K]</c> per query. A row with
    /// more negatives uses a seeded random K of them; a row with fewer uses those it has. 0 (default) ignores negatives.
    /// </summary>
    public int HardNegatives { get; init; }

    // ---- Batching and GradCache --------------------------------------------------------------------------------

    /// <summary>Queries per optimiser step (the global batch; VLM2Vec used 1 024 over 8 GPUs).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// GradCache query chunk (spec §1.7; VLM2Vec V2: 8). With both chunk sizes null the batch runs as one plain
    /// forward/backward per side; with one null that side is a single chunk.
    /// </summary>
    public int? QueryChunkSize { get; init; } = 8;

    /// <summary>GradCache target chunk (VLM2Vec V2: 8).</summary>
    public int? TargetChunkSize { get; init; } = 8;

    /// <summary>
    /// With GradCache, keep the whole batch's processed images in memory between its passes. Off (default), images are
    /// processed again for each chunk that needs them, so memory beyond one chunk grows with the batch only by the
    /// representations (and the texts' token ids); on saves that preprocessing time at the cost of memory that grows
    /// with the batch (a 1 280-token image is about 24 MB of patches). The plain path always keeps them.
    /// </summary>
    public bool KeepBatchImages { get; init; }

    /// <summary>
    /// With GradCache, run the last chunk of each side with graph in the first pass and back-propagate that graph instead
    /// of forwarding the chunk again (default on; exact). Saves two chunk forwards per step (a batch of one chunk per side
    /// then costs what the plain path costs) for a second chunk graph alive during the step. Off follows spec §1.7 to the
    /// letter.
    /// </summary>
    public bool GradCacheKeepLastChunkGraphs { get; init; } = true;

    /// <summary>
    /// With GradCache and a frozen vision tower (LoRA/DoRA by default), feed each chunk's image features from the first
    /// pass to the second instead of preparing its images and running the tower again (exact; at most 256 MiB of
    /// features per step, kept in one reservation whose untouched pages cost no memory). The tower then runs once per
    /// image, as on the plain path, which is most of GradCache's extra cost for image-heavy batches. On by default; off
    /// follows spec §1.7 to the letter (the memory beyond one chunk is then the representations only; with it on, the
    /// kept features grow with the batch up to the constant cap: 16 MiB at batch 256 in the training benchmark, whose
    /// peak RSS at batch 256 is 1.16× batch 8's either way, docs/training.md).
    /// </summary>
    public bool GradCacheReuseVisionFeatures { get; init; } = true;

    /// <summary>
    /// Prepare inputs (image decoding, processing, tokenisation) on worker threads while the model runs: the next batch
    /// during the current step, and under GradCache the next chunk during the current one. Off (default), preparation
    /// runs between model calls (still on every core). Faster when preprocessing is expensive, but unsafe with TorchSharp
    /// 0.107: the <c>Scalar</c>s it creates for calls such as <c>a.add(b)</c> or <c>t.mul(2)</c> are freed by the
    /// finalizer, and a garbage collection triggered by another thread's allocations inside such a call lets libtorch
    /// read freed memory ("Unknown scalar type", "Expected false to be true", or a crash; dotnet/TorchSharp#1434, #1496).
    /// With overlap it happened within minutes here; a run that dies resumes from its last checkpoint.
    /// </summary>
    public bool OverlapPreprocessing { get; init; }

    /// <summary>Shuffle the rows every epoch (seeded).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Make every batch come from one dataset (VLM2Vec V2's homogeneous batches); the batch order is shuffled.</summary>
    public bool HomogeneousBatches { get; init; }

    /// <summary>What to do with unusable rows.</summary>
    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Skip;

    // ---- Duration and optimiser --------------------------------------------------------------------------------

    /// <summary>Optimiser steps; null derives them from <see cref="Epochs"/>.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Passes over the data when <see cref="MaxSteps"/> is null (fractions allowed).</summary>
    public double Epochs { get; init; } = 1;

    /// <summary>
    /// Stop after this much wall time (of this process) with a checkpoint and the outputs of the weights reached so far
    /// (a later run with a larger limit continues from the checkpoint); null for no limit.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Peak learning rate (VLM2Vec V2: 5e-5; V1: 2e-5).</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary>Warmup steps (linear from 0); null uses <see cref="WarmupRatio"/>.</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Warmup as a fraction of the steps (rounded up) when <see cref="WarmupSteps"/> is null; VLM2Vec's 100 of 2 000 is 0.05.</summary>
    public double WarmupRatio { get; init; } = 0.05;

    /// <summary>AdamW weight decay (HF default 0); biases and norm weights are never decayed.</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW β₁.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW β₂.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW ε.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Clip the global gradient L2 norm to this value (HF default 1.0); null or 0 disables clipping.</summary>
    public double? MaxGradNorm { get; init; } = 1.0;

    /// <summary>Seed of everything random in the run: data order, hard-negative choice, adapter initialisation, dropout.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>
    /// libtorch intra-op threads (<c>torch.set_num_threads</c>, process-wide). Null: one per core, or one per core less
    /// one left to input preparation when <see cref="OverlapPreprocessing"/> is on (libtorch's OpenMP threads wait on each
    /// other, so sharing all cores with busy preparation threads is much slower). On a shared or oversubscribed machine
    /// fewer threads can be much faster.
    /// </summary>
    public int? Threads { get; init; }

    // ---- Parameters --------------------------------------------------------------------------------------------

    /// <summary>LoRA/DoRA adapters (default) or full fine-tuning.</summary>
    public FineTuningMode Mode { get; init; } = FineTuningMode.Lora;

    /// <summary>The adapter in LoRA mode (default VLM2Vec-V2.0's: DoRA, r 16, α 64, dropout 0.1, q/k/v/o/gate/up/down_proj).</summary>
    public LoraConfig Adapter { get; init; } = LoraConfig.Vlm2VecV2;

    /// <summary>
    /// Whether the vision tower (<c>visual.*</c>, merger included) trains in full mode (null or true: it trains; false:
    /// frozen). In LoRA mode only the adapters train, so the vision tower is frozen (VLM2Vec) and true is refused.
    /// </summary>
    public bool? TrainVisionTower { get; init; }

    /// <summary>Parameter-name prefixes kept frozen in any mode (e.g. <c>model.embed_tokens</c>).</summary>
    public IReadOnlyList<string> FrozenParameterPrefixes { get; init; } = [];
}
