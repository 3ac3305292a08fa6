using Vlm2Vec.TorchSharp.Peft;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>How <see cref="CheckpointFolder"/> loads weights.</summary>
public sealed class CheckpointLoadOptions
{
    /// <summary>
    /// Floating-point tensors are converted to this type as they load, one at a time (null: as stored). Integer and bool
    /// tensors are never converted. <see cref="CheckpointFolder.LoadInto"/> ignores it: there every tensor takes the type of
    /// the module tensor it is copied into.
    /// </summary>
    public ScalarType? DType { get; init; }

    /// <summary>Skip <c>lm_head.*</c> (an embedding model pools hidden states and never uses the head).</summary>
    public bool SkipLanguageModelHead { get; init; }

    /// <summary>
    /// Whether <c>lm_head.weight</c> is tied to the embeddings; null reads <c>tie_word_embeddings</c> from the folder's
    /// <c>config.json</c> (false when there is none). When tied, a missing <c>lm_head.weight</c> is filled from
    /// <c>model.embed_tokens.weight</c> by <see cref="CheckpointFolder.LoadInto"/>.
    /// </summary>
    public bool? TieWordEmbeddings { get; init; }

    /// <summary>Only canonical names this predicate accepts are read (null: all), e.g. the vision tower alone.</summary>
    public Func<string, bool>? IncludeTensor { get; init; }

    /// <summary>
    /// A PEFT LoRA/DoRA adapter merged into the matching base weights as they load (PEFT's merge formulas, computed in
    /// float32). Its shapes are checked against the checkpoint first.
    /// </summary>
    public PeftAdapter? Adapter { get; init; }
}
