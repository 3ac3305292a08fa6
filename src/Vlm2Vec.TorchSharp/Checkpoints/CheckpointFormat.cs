namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>How a Hugging Face checkpoint folder stores its weights.</summary>
public enum CheckpointFormat
{
    /// <summary>One <c>model.safetensors</c>.</summary>
    Safetensors,

    /// <summary>Several <c>.safetensors</c> shards listed in <c>model.safetensors.index.json</c>.</summary>
    ShardedSafetensors,

    /// <summary>One PyTorch pickle, <c>pytorch_model.bin</c>.</summary>
    PyTorchBin,

    /// <summary>Several PyTorch pickles listed in <c>pytorch_model.bin.index.json</c> (e.g. VLM2Vec-Qwen2VL-7B).</summary>
    ShardedPyTorchBin,
}
