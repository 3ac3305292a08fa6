using System.Reflection;

namespace Vlm2Vec.Server.Tests;

/// <summary>docs/server.md stays in step with the code: every metric, the Kernel Memory keys, every limit.</summary>
public sealed class DocsTests
{
    private static readonly string Doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "server.md"));

    [Fact]
    public void Every_metric_is_documented()
    {
        var names = typeof(Vlm2VecServerMetrics).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToList();
        Assert.Equal(12, names.Count);
        Assert.All(names, name => Assert.Contains($"`{name}`", Doc, StringComparison.Ordinal));
    }

    [Fact]
    public void The_kernel_memory_configuration_names_its_exact_keys()
    {
        foreach (var key in new[]
        {
            "\"KernelMemory\"", "\"Services\"", "\"OpenAI\"", "\"Endpoint\": \"http://127.0.0.1:8080/v1\"", "\"APIKey\"", "\"EmbeddingModel\"",
            "\"EmbeddingModelMaxTokenTotal\"", "\"EmbeddingModelTokenizer\"", "\"EmbeddingDimensions\"", "\"MaxEmbeddingBatchSize\"", "\"MaxRetries\"",
            "\"EmbeddingGeneratorTypes\": [ \"OpenAI\" ]", "\"EmbeddingGeneratorType\": \"OpenAI\"",
        })
        {
            Assert.Contains(key, Doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_limit_and_error_code_is_documented()
    {
        foreach (var code in new[]
        {
            "request_too_large", "too_many_inputs", "too_many_images", "text_too_long", "image_too_large", "context_length_exceeded", "queue_full",
            "model_not_found", "unknown_url", "invalid_api_key", "unsupported_input", "unsupported_dimensions", "invalid_image", "invalid_input",
            "model_not_ready", "shutting_down", "model_load_failed",
        })
        {
            Assert.Contains($"`{code}`", Doc, StringComparison.Ordinal);
        }

        foreach (var option in new[] { "--max-body-mb", "--max-items", "--max-image-mb", "--max-image-pixels", "--max-text-chars", "--max-input-tokens", "--max-queue" })
        {
            Assert.Contains($"`{option}`", Doc, StringComparison.Ordinal);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Vlm2Vec.Extensions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (Vlm2Vec.Extensions.sln) was not found above " + AppContext.BaseDirectory);
    }
}
