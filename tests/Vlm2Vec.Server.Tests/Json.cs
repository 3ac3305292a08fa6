using System.Text.Json;

namespace Vlm2Vec.Server.Tests;

/// <summary>Builds request bodies.</summary>
internal static class Json
{
    public static string Of(object value) => JsonSerializer.Serialize(value);

    public static string Embeddings(object input, string model = TestModel.Name, string? format = null) =>
        format is null ? Of(new { model, input }) : Of(new { model, input, encoding_format = format });
}
