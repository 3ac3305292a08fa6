using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vlm2Vec.Extensions.AI.Tests.Support;

namespace Vlm2Vec.Extensions.AI.Tests.Embeddings;

/// <summary>The generator behind Microsoft.Extensions.AI's standard middleware: distributed cache, logging, OpenTelemetry.</summary>
public sealed class MiddlewareTests
{
    private static MemoryDistributedCache NewCache() => new(Options.Create(new MemoryDistributedCacheOptions()));

    [Fact]
    public async Task UseDistributedCache_serves_repeats_from_the_cache_and_keys_on_the_instruction()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        using var pipeline = generator.AsBuilder()
            .UseDistributedCache(NewCache(), c => c.JsonSerializerOptions = Vlm2VecJsonUtilities.DefaultOptions)
            .Build();

        var first = await pipeline.GenerateAsync([new TextContent("a dog"), TestModel.ImageData("dalmatian")]);
        var rowsAfterFirst = encoder.RowsEncoded;
        var again = await pipeline.GenerateAsync([new TextContent("a dog"), TestModel.ImageData("dalmatian")]);
        var rowsAfterRepeat = encoder.RowsEncoded;
        var otherCallInstruction = await pipeline.GenerateAsync([new TextContent("a dog")], new EmbeddingGenerationOptions().WithInstruction("Other:"));
        var otherItemInstruction = await pipeline.GenerateAsync([new TextContent("a dog").WithInstruction("Other:")]);
        var compound = await pipeline.GenerateAsync([new Vlm2VecContent([new TextContent("a dog")]) { Instruction = "Compound:" }]);
        var compoundOther = await pipeline.GenerateAsync([new Vlm2VecContent([new TextContent("a dog")]) { Instruction = "Compound 2:" }]);
        var compoundRepeat = await pipeline.GenerateAsync([new Vlm2VecContent([new TextContent("a dog")]) { Instruction = "Compound:" }]);

        Assert.Equal(2, rowsAfterFirst);
        Assert.Equal(rowsAfterFirst, rowsAfterRepeat);
        Assert.Equal(TestModel.Vector(first[0]), TestModel.Vector(again[0]));
        Assert.Equal(TestModel.Vector(first[1]), TestModel.Vector(again[1]));
        Assert.NotEqual(TestModel.Vector(first[0]), TestModel.Vector(otherCallInstruction[0]));
        Assert.Equal(TestModel.Vector(otherCallInstruction[0]), TestModel.Vector(otherItemInstruction[0]));
        Assert.NotEqual(TestModel.Vector(compound[0]), TestModel.Vector(compoundOther[0]));
        Assert.Equal(TestModel.Vector(compound[0]), TestModel.Vector(compoundRepeat[0]));
        Assert.Equal(6, encoder.RowsEncoded);
    }

    [Fact]
    public async Task UseDistributedCache_needs_the_Vlm2Vec_json_options_for_Vlm2VecContent()
    {
        using var generator = TestModel.NewGenerator(out _);
        using var pipeline = generator.AsBuilder().UseDistributedCache(NewCache()).Build();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => pipeline.GenerateAsync([new Vlm2VecContent([new TextContent("a")])]));
        Assert.Contains(nameof(Vlm2VecContent), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_call_caches_nothing()
    {
        var cache = NewCache();
        using var generator = TestModel.NewGenerator(out var encoder);
        using var pipeline = generator.AsBuilder().UseDistributedCache(cache, c => c.JsonSerializerOptions = Vlm2VecJsonUtilities.DefaultOptions).Build();

        await Assert.ThrowsAsync<BatchItemException>(() => pipeline.GenerateAsync([new TextContent("good"), TestModel.CorruptImage()]));
        var rows = encoder.RowsEncoded;
        await pipeline.GenerateAsync([new TextContent("good")]);

        Assert.Equal(rows + 1, encoder.RowsEncoded);
    }

    [Fact]
    public async Task Vlm2Vec_cache_never_stores_a_failed_item_and_keys_on_the_model()
    {
        var cache = NewCache();
        var options = new Vlm2VecEmbeddingGeneratorOptions { ItemErrors = Vlm2VecItemErrorMode.ReturnEmpty };
        using var generator = TestModel.NewGenerator(out var encoder, options);
        using var pipeline = generator.AsBuilder().UseVlm2VecDistributedCache(cache).Build();

        var first = await pipeline.GenerateAsync([new TextContent("good"), TestModel.CorruptImage()]);
        var second = await pipeline.GenerateAsync([new TextContent("good"), TestModel.CorruptImage()]);

        Assert.Equal(1, encoder.RowsEncoded);
        Assert.NotNull(first[1].GetVlm2VecError());
        Assert.NotNull(second[1].GetVlm2VecError());
        Assert.Equal(TestModel.Vector(first[0]), TestModel.Vector(second[0]));

        // Another model sharing the cache does not get this model's entries.
        using var otherModel = new Vlm2VecEmbeddingGenerator(TestModel.NewEncoder("other-model"), ownsEncoder: true);
        var otherEncoder = (HashingEncoder)otherModel.Embedder.Encoder;
        using var otherPipeline = otherModel.AsBuilder().UseVlm2VecDistributedCache(cache).Build();
        await otherPipeline.GenerateAsync([new TextContent("good")]);
        Assert.Equal(1, otherEncoder.RowsEncoded);
        Assert.Contains(generator.CacheIdentity, ((Vlm2VecDistributedCachingEmbeddingGenerator)pipeline).CacheKeyAdditionalValues!);
    }

    [Fact]
    public async Task UseLogging_logs_calls_and_inputs_at_trace_level()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var generator = TestModel.NewGenerator(out _);
        using var pipeline = generator.AsBuilder()
            .UseLogging(loggerFactory, l => l.JsonSerializerOptions = Vlm2VecJsonUtilities.DefaultOptions)
            .Build();

        await pipeline.GenerateAsync([new Vlm2VecContent([new TextContent("spotted dog")]) { Instruction = "Find it:" }]);

        var messages = logs.Entries.Select(e => e.Message).ToList();
        Assert.Contains(messages, m => m.StartsWith("GenerateAsync invoked", StringComparison.Ordinal)
            && m.Contains("\"$type\": \"vlm2vec\"", StringComparison.Ordinal) && m.Contains("Find it:", StringComparison.Ordinal));
        Assert.Contains("GenerateAsync generated 1 embedding(s).", messages);
    }

    [Fact]
    public async Task UseOpenTelemetry_reports_provider_model_dimensions_and_token_usage()
    {
        const string SourceName = "vlm2vec-tests-otel";
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => activities.Add(a),
        };
        ActivitySource.AddActivityListener(listener);
        var tokenMeasurements = new List<long>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SourceName && instrument.Name == "gen_ai.client.token.usage")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => tokenMeasurements.Add(value));
        meters.SetMeasurementEventCallback<int>((_, value, _, _) => tokenMeasurements.Add(value));
        meters.Start();

        using var generator = TestModel.NewGenerator(out _);
        using var pipeline = generator.AsBuilder().UseOpenTelemetry(sourceName: SourceName).Build();
        var result = await pipeline.GenerateAsync([new TextContent("a dog"), TestModel.ImageData("pizza")]);

        var activity = Assert.Single(activities);
        Assert.Equal("embeddings hashing-test-model", activity.DisplayName);
        Assert.Equal("vlm2vec", activity.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("hashing-test-model", activity.GetTagItem("gen_ai.request.model"));
        Assert.Equal(HashingEncoder.Dimension, Convert.ToInt32(activity.GetTagItem("gen_ai.embeddings.dimension.count"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(result.Usage!.InputTokenCount, Convert.ToInt64(activity.GetTagItem("gen_ai.usage.input_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(result.Usage.InputTokenCount, Assert.Single(tokenMeasurements));
    }
}
