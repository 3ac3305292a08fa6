using global::TorchSharp.Modules;
using global::TorchSharp;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>Qwen2VLTextModel</c> (checkpoint prefix <c>model.</c>): token embeddings, the decoder layers and the final RMSNorm
/// (spec §3.7). The rotary cos/sin and the additive mask are computed once per forward and shared by every layer.
/// </summary>
internal sealed class Qwen2VlTextModel : nn.Module
{
    private readonly Qwen2VlConfig _config;
    private readonly Tensor _inverseFrequencies;

    private Embedding embed_tokens;
    private ModuleList<Qwen2VlDecoderLayer> layers;
    private Qwen2RmsNorm norm;

    public Qwen2VlTextModel(Qwen2VlConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(Qwen2VlTextModel))
    {
        _config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId, dtype: dtype);
        var decoderLayers = new Qwen2VlDecoderLayer[config.NumHiddenLayers];
        for (var i = 0; i < decoderLayers.Length; i++)
        {
            decoderLayers[i] = new Qwen2VlDecoderLayer(config, dtype, implementation);
        }

        layers = nn.ModuleList(decoderLayers);
        norm = new Qwen2RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        RegisterComponents();

        // Not a field the module registers: the inverse frequencies are recomputed from the config, never loaded or saved
        // (a non-persistent buffer in the reference).
        _inverseFrequencies = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta).DetachFromDisposeScope();
    }

    /// <summary>The token embedding matrix <c>(vocab, hidden)</c>.</summary>
    public Embedding EmbedTokens => embed_tokens;

    /// <summary>Number of decoder layers.</summary>
    public int LayerCount => layers.Count;

    /// <summary>Looks up token embeddings <c>(B, L, hidden)</c>.</summary>
    public Tensor Embed(Tensor inputIds) => embed_tokens.call(inputIds);

    /// <summary>
    /// Runs the decoder over <paramref name="inputsEmbeds"/>. Returns the final-norm hidden states and, when asked, the
    /// reference's <c>hidden_states</c> tuple: the embeddings, the outputs of layers 0 … n−2, and the final-norm output
    /// (n+1 entries; the un-normed output of the last layer is not part of it).
    /// </summary>
    /// <param name="inputsEmbeds"><c>(B, L, hidden)</c>.</param>
    /// <param name="positionIds"><c>(3, B, L)</c> int64.</param>
    /// <param name="attentionMask"><c>(B, L)</c>, 1 on real tokens; null = no padding.</param>
    /// <param name="outputHiddenStates">Whether to return every layer's input.</param>
    /// <param name="keepLastLayerOutput">Whether to also return the last layer's raw output (before the final norm; for parity checks).</param>
    public (Tensor LastHiddenState, List<Tensor>? HiddenStates, Tensor? LastLayerOutput) Forward(
        Tensor inputsEmbeds, Tensor positionIds, Tensor? attentionMask, bool outputHiddenStates, bool keepLastLayerOutput = false)
    {
        var dtype = inputsEmbeds.dtype;
        using var shared = NewDisposeScope();
        var (cos, sin) = RotaryEmbedding.MultimodalCosSin(positionIds, _inverseFrequencies, _config.MropeSection, dtype);
        var mask = BuildAdditiveMask(attentionMask, inputsEmbeds.shape[0], inputsEmbeds.shape[1], dtype);

        var all = outputHiddenStates ? new List<Tensor>(layers.Count + 1) : null;
        var hidden = inputsEmbeds;
        for (var i = 0; i < layers.Count; i++)
        {
            all?.Add(hidden);
            var next = layers[i].call(hidden, cos, sin, mask);
            if (all is null && !ReferenceEquals(hidden, inputsEmbeds))
            {
                hidden.Dispose();
            }

            hidden = next;
        }

        var last = norm.call(hidden);
        Tensor? lastLayerOutput = null;
        if (keepLastLayerOutput && !ReferenceEquals(hidden, inputsEmbeds))
        {
            lastLayerOutput = hidden.MoveToOuterDisposeScope();
        }
        else if (all is null && !ReferenceEquals(hidden, inputsEmbeds))
        {
            hidden.Dispose();
        }

        all?.Add(last);
        if (all is not null)
        {
            foreach (var t in all)
            {
                if (!ReferenceEquals(t, inputsEmbeds))
                {
                    t.MoveToOuterDisposeScope();
                }
            }
        }
        else
        {
            last.MoveToOuterDisposeScope();
        }

        return (last, all, lastLayerOutput);
    }

    /// <summary>
    /// The reference's 4-D eager mask: <c>0</c> where key <c>j ≤ i</c> and key <c>j</c> is a real token, the dtype's minimum
    /// elsewhere, shape <c>(B, 1, L, L)</c>. Rows of padded queries are entirely masked, so (as in the reference) their
    /// softmax is uniform over all keys.
    /// </summary>
    internal static Tensor BuildAdditiveMask(Tensor? attentionMask, long batch, long length, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var allowed = ones(length, length, dtype: ScalarType.Bool).tril().unsqueeze(0).unsqueeze(0); // (1, 1, L, L)
        if (attentionMask is not null)
        {
            var keys = attentionMask.ne(0).reshape(batch, 1, 1, length);
            allowed = allowed.logical_and(keys);
        }
        else
        {
            allowed = allowed.expand(batch, 1, length, length);
        }

        using Scalar minimum = finfo(dtype).min;
        return zeros(allowed.shape, dtype: dtype).masked_fill(allowed.logical_not(), minimum).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inverseFrequencies.Dispose();
        }

        base.Dispose(disposing);
    }
}
