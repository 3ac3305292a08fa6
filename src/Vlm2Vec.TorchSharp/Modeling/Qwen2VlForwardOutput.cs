using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// What <see cref="Qwen2VlForConditionalGeneration.forward(Qwen2VlForwardInput)"/> returns. The tensors belong to the
/// dispose scope that was current when the forward ran (or to the caller, who may dispose this object).
/// </summary>
public sealed class Qwen2VlForwardOutput : IDisposable
{
    internal Qwen2VlForwardOutput(Tensor lastHiddenState, IReadOnlyList<Tensor>? hiddenStates, Tensor embeddings, Tensor positionIds)
    {
        LastHiddenState = lastHiddenState;
        HiddenStates = hiddenStates;
        Embeddings = embeddings;
        PositionIds = positionIds;
    }

    /// <summary>Hidden states after the final RMSNorm <c>(B, L, hidden)</c> (what VLM2Vec pools).</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>
    /// When requested: the input embeddings (image features scattered in), the outputs of decoder layers 0 … n−2, and the
    /// final-norm output, <c>n + 1</c> tensors of <c>(B, L, hidden)</c>, exactly the reference's <c>hidden_states</c> tuple.
    /// </summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; }

    /// <summary>
    /// VLM2Vec's pooled embedding <c>(B, hidden)</c> in the model dtype: the last column when every row's last mask entry is
    /// 1 (left padding), else each row's last real token; then divided by <c>max(‖x‖₂, 1e-12)</c>.
    /// </summary>
    public Tensor Embeddings { get; }

    /// <summary>The rotary position ids used <c>(3, B, L)</c>.</summary>
    public Tensor PositionIds { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        LastHiddenState.Dispose();
        Embeddings.Dispose();
        PositionIds.Dispose();
        if (HiddenStates is not null)
        {
            foreach (var t in HiddenStates)
            {
                t.Dispose();
            }
        }
    }
}
