using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>VisionAttention</c>: fused <c>qkv</c> (bias), 2-D RoPE on q and k in float32, non-causal attention restricted to each
/// <c>cu_seqlens</c> segment (one temporal slice of one image), <c>proj</c> (bias) (spec §3.5 step 3).
/// </summary>
internal sealed class VisionAttention : nn.Module<Tensor, Tensor, Tensor, long[], Tensor>
{
    private readonly int _numHeads;
    private readonly int _headDim;
    private readonly double _scaling;
    private readonly Qwen2VlAttentionImplementation _implementation;

    private nn.Module<Tensor, Tensor> qkv;
    private nn.Module<Tensor, Tensor> proj;

    public VisionAttention(Qwen2VlVisionConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(VisionAttention))
    {
        _numHeads = config.NumHeads;
        _headDim = config.HeadDim;
        _scaling = Math.Pow(_headDim, -0.5);
        _implementation = implementation;
        qkv = nn.Linear(config.EmbedDim, config.EmbedDim * 3L, hasBias: true, dtype: dtype);
        proj = nn.Linear(config.EmbedDim, config.EmbedDim, hasBias: true, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="hiddenStates"><c>(S, embed)</c>.</param>
    /// <param name="cos"><c>(S, head_dim)</c> float32.</param>
    /// <param name="sin"><c>(S, head_dim)</c> float32.</param>
    /// <param name="segmentLengths">Lengths of the attention segments (differences of <c>cu_seqlens</c>), summing to S.</param>
    public override Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, long[] segmentLengths)
    {
        using var scope = NewDisposeScope();
        var length = hiddenStates.shape[0];
        var parts = qkv.call(hiddenStates).reshape(length, 3, _numHeads, -1).permute(1, 0, 2, 3).unbind(0); // 3 × (S, H, D)
        var query = RotaryEmbedding.ApplyVision(parts[0], cos, sin);
        var key = RotaryEmbedding.ApplyVision(parts[1], cos, sin);
        var value = parts[2];

        Tensor output; // (S, H, D)
        if (AllEqual(segmentLengths))
        {
            // Equal segments attend independently as a batch: (n, H, len, D), in groups whose score tensors stay within
            // a cache-friendly budget. One (n·H, len, len) score tensor for a whole batch of 448² images is hundreds of MiB:
            // measured on CPU, 16 images in one group ran slower per image than one at a time and held 3.4× the memory.
            var count = segmentLengths.Length;
            var segment = segmentLengths[0];
            var perGroup = (int)Math.Clamp(MaxScoreBytesPerGroup / Math.Max(1L, _numHeads * segment * segment * 4L), 1L, count);
            if (perGroup >= count)
            {
                output = Attend(Batch(query, count, segment), Batch(key, count, segment), Batch(value, count, segment))
                    .transpose(1, 2).reshape(length, _numHeads, _headDim);
            }
            else
            {
                var groups = new List<Tensor>();
                for (long first = 0; first < count; first += perGroup)
                {
                    var n = Math.Min(perGroup, count - first);
                    var range = TensorIndex.Slice(first * segment, (first + n) * segment);
                    groups.Add(Attend(Batch(query[range], n, segment), Batch(key[range], n, segment), Batch(value[range], n, segment))
                        .transpose(1, 2).reshape(n * segment, _numHeads, _headDim));
                }

                output = cat(groups, 0);
            }
        }
        else
        {
            var outputs = new Tensor[segmentLengths.Length];
            long start = 0;
            for (var i = 0; i < segmentLengths.Length; i++)
            {
                var end = start + segmentLengths[i];
                var range = TensorIndex.Slice(start, end);
                outputs[i] = Attend(Batch(query[range], 1, segmentLengths[i]), Batch(key[range], 1, segmentLengths[i]), Batch(value[range], 1, segmentLengths[i]))
                    .transpose(1, 2).reshape(segmentLengths[i], _numHeads, _headDim);
                start = end;
            }

            output = cat(outputs, 0);
        }

        return proj.call(output.reshape(length, -1)).MoveToOuterDisposeScope();
    }

    /// <summary>The float32 attention-score bytes one batched attention call may hold (16 MiB).</summary>
    internal const long MaxScoreBytesPerGroup = 16L << 20;

    private static Tensor Batch(Tensor states, long count, long segment) =>
        states.reshape(count, segment, states.shape[1], states.shape[2]).transpose(1, 2);

    private Tensor Attend(Tensor query, Tensor key, Tensor value) =>
        _implementation == Qwen2VlAttentionImplementation.Sdpa
            ? nn.functional.scaled_dot_product_attention(query, key, value)
            : Qwen2VlAttention.EagerAttention(query, key, value, null, _scaling);

    private static bool AllEqual(long[] lengths)
    {
        for (var i = 1; i < lengths.Length; i++)
        {
            if (lengths[i] != lengths[0])
            {
                return false;
            }
        }

        return lengths.Length > 0;
    }
}
