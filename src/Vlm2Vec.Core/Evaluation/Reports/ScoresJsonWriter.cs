using System.Text.Encodings.Web;
using System.Text.Json;

namespace Vlm2Vec.Evaluation;

/// <summary>Writes <c>scores.json</c>: model, settings, per-dataset scores (percent), aggregates, timings.</summary>
internal static class ScoresJsonWriter
{
    public const string Format = "vlm2vec-mmeb-scores/1";

    public static byte[] Write(ReportModel model)
    {
        var result = model.Result;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteString("unit", "percent");
            json.WriteString("metric", "hit@1");

            json.WriteStartObject("model");
            json.WriteString("id", result.Model.ModelId);
            json.WriteString("architecture", result.Model.Architecture);
            json.WriteString("engine", result.Model.Engine);
            json.WriteString("dtype", result.Model.DType);
            json.WriteNumber("dimension", result.Model.Dimension);
            WriteStringOrNull(json, "source", result.Model.Source);
            json.WriteEndObject();

            var settings = result.Settings;
            json.WriteStartObject("settings");
            json.WriteBoolean("ndcg", settings.ComputeNdcg);
            WriteNumberOrNull(json, "rowLimit", settings.RowLimit);
            json.WriteNumber("maxBatchSize", settings.MaxBatchSize);
            json.WriteNumber("maxBatchTokens", settings.MaxBatchTokens);
            json.WriteString("promptStyle", settings.PromptStyle.ToString());
            WriteStringOrNull(json, "imagePlaceholder", settings.ImagePlaceholder);
            json.WriteString("embeddingFailures", settings.EmbeddingFailures.ToString());
            WriteStringOrNull(json, "embeddingCache", settings.EmbeddingCacheFolder);
            json.WriteString("ties", "lowest index (VLM2Vec V1 argmax)");
            json.WriteEndObject();

            json.WriteString("startedAt", result.StartedAt);
            json.WriteNumber("durationSeconds", Math.Round(result.Duration.TotalSeconds, 3));
            WriteStringOrNull(json, "comparison", model.Comparison);

            json.WriteStartArray("datasets");
            foreach (var dataset in result.Datasets)
            {
                json.WriteStartObject();
                json.WriteString("name", dataset.Name);
                WriteStringOrNull(json, "metaTask", dataset.MetaTask is { } task ? MmebAggregation.Label(task) : null);
                WriteStringOrNull(json, "distribution", dataset.IsOutOfDistribution switch { true => "OOD", false => "IND", null => null });
                json.WriteNumber("n", dataset.ScoredRows);
                json.WriteNumber("rows", dataset.Rows);
                json.WriteNumber("failedRows", dataset.FailedRows);
                json.WriteNumber("skippedRows", dataset.SkippedRows);
                json.WriteNumber("hit@1", dataset.HitAt1);
                json.WriteNumber("recall@5", dataset.RecallAt5);
                json.WriteNumber("mrr", dataset.Mrr);
                if (dataset.NdcgAt5 is { } ndcg)
                {
                    json.WriteNumber("ndcg@5", ndcg);
                }

                if (model.Comparison is not null)
                {
                    WriteNumberOrNull(json, "published@1", model.Published(dataset));
                }

                json.WriteNumber("uniqueQueries", dataset.UniqueQueries);
                json.WriteNumber("uniqueCandidates", dataset.UniqueCandidates);
                json.WriteNumber("candidateSlots", dataset.CandidateSlots);
                json.WriteNumber("embedded", dataset.EmbeddedInputs);
                json.WriteNumber("cached", dataset.CachedInputs);
                json.WriteNumber("embeddingSeconds", Math.Round(dataset.EmbeddingTime.TotalSeconds, 3));
                json.WriteNumber("scoringSeconds", Math.Round(dataset.ScoringTime.TotalSeconds, 3));
                WriteStringOrNull(json, "imageRoot", dataset.ImageRoot);
                json.WriteStartArray("sources");
                foreach (var source in dataset.SourcePaths)
                {
                    json.WriteStringValue(source);
                }

                json.WriteEndArray();
                if (dataset.Problems.Count > 0)
                {
                    json.WriteStartArray("problems");
                    foreach (var problem in dataset.Problems)
                    {
                        json.WriteStringValue(problem);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartObject("aggregates");
            WriteAggregates(json, "hit@1", result.Aggregates);
            if (result.NdcgAggregates is { } ndcgAggregates)
            {
                WriteAggregates(json, "ndcg@5", ndcgAggregates);
            }

            if (model.PublishedAggregates is { } published)
            {
                WriteAggregates(json, "published@1", published);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteAggregates(Utf8JsonWriter json, string name, MmebAggregateScores scores)
    {
        json.WriteStartObject(name);
        foreach (var (label, value) in ReportModel.Rows(scores))
        {
            json.WriteStartObject(label);
            json.WriteNumber("mean", value.Mean);
            json.WriteNumber("datasets", value.DatasetCount);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
