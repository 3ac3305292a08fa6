using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Vlm2Vec.Server.Tests;

/// <summary>The <c>Vlm2Vec.Server</c> meter: request counts by status, request and batch histograms, the queue gauges.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Requests_batches_and_queue_are_measured()
    {
        await using var server = await TestServer.StartAsync(o => o with { Batching = new DynamicBatchingOptions { MaxWait = TimeSpan.FromMilliseconds(20) } },
            TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(30)));
        var factory = server.Host.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Vlm2VecServerMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Enqueue((i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => measurements.Enqueue((i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Enqueue((i.Name, v, ToDictionary(tags))));
        listener.Start();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => server.PostAsync(Json.Embeddings(new[] { $"text {i}", TestModel.DataUrl("hopper") }))));
        Assert.Equal(404, (await server.PostAsync(Json.Embeddings("x", model: "nope"))).Code);
        listener.RecordObservableInstruments();

        List<(string Name, double Value, Dictionary<string, object?> Tags)> Of(string name) => measurements.Where(m => m.Name == name).ToList();
        var requests = Of(Vlm2VecServerMetrics.Requests);
        Assert.Equal(6, requests.Count(m => (int)m.Tags["http.response.status_code"]! == 200));
        Assert.Single(requests, m => (int)m.Tags["http.response.status_code"]! == 404 && (string?)m.Tags["error.type"] == "model_not_found");
        Assert.Equal(7, Of(Vlm2VecServerMetrics.RequestDuration).Count);
        Assert.All(Of(Vlm2VecServerMetrics.RequestDuration), m => Assert.True(m.Value > 0));
        Assert.Equal(6, Of(Vlm2VecServerMetrics.RequestItems).Count);
        Assert.Equal(12, Of(Vlm2VecServerMetrics.BatchSize).Sum(m => m.Value));
        Assert.Contains(Of(Vlm2VecServerMetrics.BatchSize), m => m.Value > 1);
        Assert.Equal(Of(Vlm2VecServerMetrics.BatchSize).Count, Of(Vlm2VecServerMetrics.BatchDuration).Count);
        Assert.NotEmpty(Of(Vlm2VecServerMetrics.BatchTokens));
        Assert.Equal(12, Of(Vlm2VecServerMetrics.QueueWait).Count);
        Assert.Equal(6, Of(Vlm2VecServerMetrics.ItemsEmbedded).Where(m => (string?)m.Tags["vlm2vec.modality"] == "text").Sum(m => m.Value));
        Assert.Equal(6, Of(Vlm2VecServerMetrics.ItemsEmbedded).Where(m => (string?)m.Tags["vlm2vec.modality"] == "image").Sum(m => m.Value));
        var tokens = 6 * TestModel.Tokens(MultimodalInput.FromImage(ImageInput.FromBytes(TestModel.ImageBytes("hopper"))))
            + Enumerable.Range(0, 6).Sum(i => TestModel.Tokens(MultimodalInput.FromText($"text {i}")));
        Assert.Equal(tokens, Of(Vlm2VecServerMetrics.Tokens).Sum(m => m.Value));
        Assert.Equal(0, Assert.Single(Of(Vlm2VecServerMetrics.QueueDepth)).Value);
        Assert.Equal(0, Assert.Single(Of(Vlm2VecServerMetrics.ItemsInFlight)).Value);
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }
}
