using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.Extensions.AI.Tests.Embeddings;

/// <summary>A tiny random Qwen2-VL checkpoint beside the real tokenizer, saved once for the tests of this class.</summary>
public sealed class TinyCheckpointFixture : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-tiny-checkpoint");

    public TinyCheckpointFixture()
    {
        // CreateRandom's constructor loads TorchSharp only after the base module is built; load (and fix up) it first.
        TorchSharpRuntime.EnsureLoaded();
        var config = Qwen2VlConfig.Parse(
            File.ReadAllText(SharedData.Path("tokenizer", "qwen2-vl", "config.json")), "config.json") with
        {
            HiddenSize = 64, IntermediateSize = 96, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16, MropeSection = [2, 3, 3],
        };
        config = config with { Vision = config.Vision with { Depth = 2, EmbedDim = 32, HiddenSize = 64, NumHeads = 2, MlpRatio = 2 } };
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 11, InitializerRange = 0.2 }))
        {
            model.SavePretrained(Path);
        }

        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "vocab.json", "merges.txt" })
        {
            File.Copy(SharedData.Path("tokenizer", "qwen2-vl", file), System.IO.Path.Combine(Path, file));
        }
    }

    public string Path => _folder.Path;

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// The generator end to end on a real encoder: the TorchSharp engine opens a tiny random Qwen2-VL checkpoint (real
/// tokenizer and image processor) by path through <see cref="IVlm2VecEncoderFactory"/> and dependency injection.
/// </summary>
public sealed class TorchSharpEngineTests(TinyCheckpointFixture checkpoint) : IClassFixture<TinyCheckpointFixture>
{
    private ServiceProvider Services(Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null)
    {
        var services = new ServiceCollection().AddVlm2VecEncoderFactory(new TorchSharpEncoderFactory());
        services.AddVlm2VecEmbeddingGenerator(o =>
        {
            o.ModelPath = checkpoint.Path;
            o.MaxImageProcessorPixels = 64 * 28 * 28;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Opens_the_checkpoint_by_path_and_embeds_text_images_and_compound_items_as_the_encoder_does()
    {
        await using var provider = Services();
        var generator = provider.GetRequiredService<Vlm2VecEmbeddingGenerator>();
        var pipeline = provider.GetRequiredService<IEmbeddingGenerator<AIContent, Embedding<float>>>();

        var result = await pipeline.GenerateAsync(
            [new TextContent("a spotted dog"), TestModel.ImageData("dalmatian"), Vlm2VecContent.Create("Represent the given image with the following question:", "What is it?", TestModel.ImageUri("pizza"))]);

        Assert.Equal("torchsharp-cpu", generator.Embedder.Encoder.Info.Engine);
        Assert.Equal(System.IO.Path.GetFileName(checkpoint.Path), pipeline.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal(64, generator.Dimensions);
        var direct = new Vlm2VecEmbedder(generator.Embedder.Encoder);
        var defaults = new Vlm2VecDefaultInstructions();
        float[][] expected =
        [
            await direct.EmbedAsync(MultimodalInput.FromText("a spotted dog", defaults.TextQuery)),
            await direct.EmbedAsync(MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("dalmatian")), defaults.ImageQuery)),
            await direct.EmbedAsync(MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("pizza")), "Represent the given image with the following question:", "What is it?")),
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(64, result[i].Dimensions);
            Assert.Equal(1.0, Math.Sqrt(result[i].Vector.ToArray().Sum(v => (double)v * v)), 4);
            Assert.True(TestModel.Cosine(result[i].Vector, expected[i]) > 0.99999, $"item {i}: batched vs alone");
        }

        Assert.True(TestModel.Cosine(result[0].Vector, result[1].Vector) < 0.9999, "different inputs give different vectors");
        Assert.True(result.Usage!.InputTokenCount > 40);
    }

    [Fact]
    public async Task Stores_and_finds_an_image_in_the_embedded_store()
    {
        await using var provider = Services();
        var generator = provider.GetRequiredService<IEmbeddingGenerator>();
        using var store = new Vlm2VecVectorStore(null, generator);
        var collection = store.GetCollection<string, Item>("mixed", new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(string)),
                new VectorStoreVectorProperty<AIContent>("Content", 64),
            ],
        });
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new Item { Id = "dog", Content = TestModel.ImageData("dalmatian").WithRole(EmbeddingRole.Target) },
            new Item { Id = "pizza", Content = TestModel.ImageData("pizza").WithRole(EmbeddingRole.Target) },
            new Item { Id = "note", Content = new TextContent("buy more flour").WithRole(EmbeddingRole.Target) },
        ]);

        var hit = await collection.SearchAsync<AIContent>(TestModel.ImageData("pizza").WithRole(EmbeddingRole.Target), 1).SingleAsync();

        Assert.Equal("pizza", hit.Record.Id);
        Assert.True(hit.Score > 0.9999);
    }

    public sealed class Item
    {
        public string Id { get; set; } = string.Empty;

        public AIContent? Content { get; set; }
    }

    [Fact]
    public async Task The_engine_refuses_devices_it_does_not_have()
    {
        await using var provider = Services(o => o.Device = "cuda:0");

        var error = Assert.Throws<NotSupportedException>(() => provider.GetRequiredService<Vlm2VecEmbeddingGenerator>());
        Assert.Contains("cuda:0", error.Message, StringComparison.Ordinal);
        Assert.True(new TorchSharpEncoderFactory().CanOpen(checkpoint.Path));
        Assert.False(new TorchSharpEncoderFactory().CanOpen(SharedData.Qwen2VlTokenizerFolder));
    }
}
