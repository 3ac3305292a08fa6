using global::TorchSharp;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>Qwen2VLAttention</c>: grouped-query self-attention with q/k/v biases, no o bias, M-RoPE on q and k, causal plus
/// padding mask (spec §3.7). The mask is additive (<c>0</c> where allowed, <c>finfo(dtype).min</c> elsewhere) exactly like
/// the reference's eager path.
/// </summary>
/// <remarks>
/// <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> and <c>o_proj</c> are <see cref="nn.Module{T, TResult}"/> fields named like
/// their state-dict keys, so an adapter module can replace any of them by reflection and <c>register_module</c>.
/// </remarks>
internal sealed class Qwen2VlAttention : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private readonly int _numHeads;
    private readonly int _numKeyValueHeads;
    private readonly int _headDim;
    private readonly double _scaling;
    private readonly double _dropout;
    private readonly Qwen2VlAttentionImplementation _implementation;

    private nn.Module<Tensor, Tensor> q_proj;
    private nn.Module<Tensor, Tensor> k_proj;
    private nn.Module<Tensor, Tensor> v_proj;
    private nn.Module<Tensor, Tensor> o_proj;

    public Qwen2VlAttention(Qwen2VlConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(Qwen2VlAttention))
    {
        _numHeads = config.NumAttentionHeads;
        _numKeyValueHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _scaling = Math.Pow(_headDim, -0.5);
        _dropout = config.AttentionDropout;
        _implementation = implementation;

        q_proj = nn.Linear(config.HiddenSize, (long)_numHeads * _headDim, hasBias: true, dtype: dtype);
        k_proj = nn.Linear(config.HiddenSize, (long)_numKeyValueHeads * _headDim, hasBias: true, dtype: dtype);
        v_proj = nn.Linear(config.HiddenSize, (long)_numKeyValueHeads * _headDim, hasBias: true, dtype: dtype);
        o_proj = nn.Linear((long)_numHeads * _headDim, config.HiddenSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="hiddenStates"><c>(B, L, hidden)</c>.</param>
    /// <param name="cos"><c>(B, 1, L, head_dim)</c>, activation dtype, M-RoPE sections already selected.</param>
    /// <param name="sin">Same shape as <paramref name="cos"/>.</param>
    /// <param name="attentionMask">Additive mask <c>(B, 1, L, L)</c> in the activation dtype.</param>
    public override Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var batch = hiddenStates.shape[0];
        var length = hiddenStates.shape[1];

        var query = q_proj.call(hiddenStates).view(batch, length, -1, _headDim).transpose(1, 2);
        var key = k_proj.call(hiddenStates).view(batch, length, -1, _headDim).transpose(1, 2);
        var value = v_proj.call(hiddenStates).view(batch, length, -1, _headDim).transpose(1, 2);

        query = RotaryEmbedding.Apply(query, cos, sin);
        key = RotaryEmbedding.Apply(key, cos, sin);

        var groups = _numHeads / _numKeyValueHeads;
        key = RepeatKeyValue(key, groups);
        value = RepeatKeyValue(value, groups);

        // Attention dropout (attention_dropout, 0 for every released Qwen2-VL) applies in training mode only.
        var dropout = training ? _dropout : 0.0;
        var output = _implementation == Qwen2VlAttentionImplementation.Sdpa
            ? nn.functional.scaled_dot_product_attention(query, key, value, attentionMask, dropout)
            : EagerAttention(query, key, value, attentionMask, _scaling, dropout);

        output = output.transpose(1, 2).contiguous().reshape(batch, length, -1);
        return o_proj.call(output).MoveToOuterDisposeScope();
    }

    /// <summary>The reference <c>eager_attention_forward</c>: scores, additive mask, float32 softmax, cast, dropout, values.</summary>
    internal static Tensor EagerAttention(Tensor query, Tensor key, Tensor value, Tensor? additiveMask, double scaling, double dropout = 0.0)
    {
        using var scope = NewDisposeScope();
        using Scalar scale = scaling;
        var weights = matmul(query, key.transpose(2, 3)) * scale;
        if (additiveMask is not null)
        {
            weights = weights + additiveMask;
        }

        weights = nn.functional.softmax(weights, -1, ScalarType.Float32).to(query.dtype);
        if (dropout > 0)
        {
            weights = nn.functional.dropout(weights, dropout, training: true);
        }

        return matmul(weights, value).MoveToOuterDisposeScope();
    }

    /// <summary><c>repeat_kv</c>: <c>(B, kv, L, D)</c> → <c>(B, kv·groups, L, D)</c>, each KV head repeated for its query group.</summary>
    private static Tensor RepeatKeyValue(Tensor states, int groups)
    {
        if (groups == 1)
        {
            return states;
        }

        var shape = states.shape;
        return states.unsqueeze(2).expand(shape[0], shape[1], groups, shape[2], shape[3]).reshape(shape[0], shape[1] * groups, shape[2], shape[3]);
    }
}
