using System.Security.Cryptography;
using System.Text;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>A deterministic "model": each input's vector is a pseudo-random unit vector seeded by its signature.</summary>
internal sealed class HashingEncoder(Vlm2VecPreprocessor preprocessor, int dimension = 16, string modelId = "test/hashing")
    : SignatureEncoder(preprocessor, dimension, modelId)
{
    protected override float[] VectorFor(string signature)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(signature)), 0);
        var random = new Random(seed);
        var values = new double[Info.Dimension];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextDouble() * 2 - 1;
        }

        return Normalised(values);
    }
}
