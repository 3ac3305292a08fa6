using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>
/// An encoder with hand-written vectors for text-only inputs: each prompt string is prepared with the real preprocessing
/// to learn its token ids, and the batch rows are matched back by those ids. Unknown inputs fail the test.
/// </summary>
internal sealed class ScriptedEncoder : SignatureEncoder
{
    private readonly Dictionary<string, float[]> _vectors = new(StringComparer.Ordinal);

    public ScriptedEncoder(Vlm2VecPreprocessor preprocessor, IReadOnlyDictionary<string, float[]> vectors, string modelId = "test/scripted")
        : base(preprocessor, vectors.First().Value.Length, modelId)
    {
        foreach (var (prompt, vector) in vectors)
        {
            _vectors[Signature(preprocessor.Prepare(new MultimodalInput { Prompt = prompt, KeepStrayPlaceholders = true }))] = vector;
        }
    }

    protected override float[] VectorFor(string signature) =>
        _vectors.TryGetValue(signature, out var vector) ? vector : throw new InvalidOperationException("The scripted encoder met an input it has no vector for.");
}
