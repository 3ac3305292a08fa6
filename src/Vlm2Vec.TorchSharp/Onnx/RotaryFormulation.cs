namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxBlocks.ApplyRotary"/> rotates q/k by per-token cos/sin (rotate-half pairs).</summary>
internal enum RotaryFormulation
{
    /// <summary>com.microsoft <c>RotaryEmbedding</c> fed the per-token caches flattened to (B·S, H/2) with position ids
    /// <c>0..B·S−1</c> (onnxruntime-genai's Qwen2.5-VL trick). The default.</summary>
    MicrosoftRotaryFlattenedCache,

    /// <summary>ai.onnx <c>RotaryEmbedding</c> (opset 23+) with per-token caches (B, S, H/2) and no position ids.</summary>
    OnnxRotaryPerTokenCache,

    /// <summary>Plain ops: <c>x·cos + rotate_half(x)·sin</c> with <c>Split/Neg/Concat</c>, exactly as HF writes it.</summary>
    Explicit,
}
