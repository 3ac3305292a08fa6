using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>How <see cref="Qwen2VlOnnxGraphs"/> writes the two graphs (the exporter picks these from the export dtype;
/// tests and benchmarks switch them).</summary>
internal sealed record Qwen2VlGraphOptions
{
    /// <summary>Weight and activation dtype (float32 or float16); graph inputs and outputs stay float32/int64.</summary>
    public DataType DType { get; init; } = DataType.Float;

    /// <summary>
    /// The dtype the token-embedding table is stored in when it differs from <see cref="DType"/> (null: <see cref="DType"/>).
    /// A float16 table in a float32 graph is gathered and then cast to float32.
    /// </summary>
    public DataType? EmbeddingTableDType { get; init; }

    /// <summary>
    /// Store the weights of every projection of the vision blocks, the merger and the decoder layers as int8 per output
    /// channel and run them with com.microsoft <c>DynamicQuantizeMatMul</c> (activations quantized to uint8 per tensor at
    /// run time; int32 accumulation). Only with <see cref="DType"/> float32; the patch embedding, the token embeddings,
    /// norms, biases, rotary and attention stay float32.
    /// </summary>
    public bool Int8Projections { get; init; }

    /// <summary>The decoder's attention kernel.</summary>
    public AttentionFormulation DecoderAttention { get; init; } = AttentionFormulation.MultiHeadAttention;

    /// <summary>The vision tower's attention kernel: <see cref="AttentionFormulation.MultiHeadAttention"/> or
    /// <see cref="AttentionFormulation.MatMulSoftmax"/> (no mask either way: each image is its own batch entry).</summary>
    public AttentionFormulation VisionAttention { get; init; } = AttentionFormulation.MultiHeadAttention;

    /// <summary>Residual adds fused into the following RMSNorm (com.microsoft SkipSimplifiedLayerNormalization):
    /// slower on ORT's CPU provider, meant for CUDA.</summary>
    public bool FusedDecoderSkipNorms { get; init; }

    /// <summary>Residual adds fused into the vision tower's second LayerNorm (com.microsoft SkipLayerNormalization).</summary>
    public bool FusedVisionSkipNorms { get; init; } = true;

    /// <summary>
    /// Run the last decoder layer's query projection, attention output, MLP and the final norm on the pooled token only
    /// (the embedding never reads any other position of the last layer). Off when <see cref="IncludeLastHiddenState"/>.
    /// </summary>
    public bool PoolBeforeLastLayer { get; init; } = true;

    /// <summary>Add a <c>last_hidden_state</c> output (every position; diagnostics and parity tests).</summary>
    public bool IncludeLastHiddenState { get; init; }

    /// <summary>The ai.onnx opset.</summary>
    public int OpsetVersion { get; init; } = 21;
}
