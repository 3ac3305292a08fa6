using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vlm2Vec.TorchSharp.Peft;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// The resolved options of a run as JSON (<c>training_args.json</c>), and fingerprints of what decides its trajectory
/// (options, data) so that a checkpoint is never resumed under other settings or other data.
/// </summary>
internal static class TrainingRunDescription
{
    public const string ArgsFileName = "training_args.json";

    /// <summary>The options that decide the trajectory, with the resolved step counts, as canonical JSON.</summary>
    public static string TrajectoryJson(ContrastiveTrainingOptions o, int totalSteps, int warmupSteps, LoraConfig? adapter)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("base_model", o.BaseModelFolder is null ? null : Path.GetFullPath(o.BaseModelFolder));
            w.WriteString("initial_adapter", o.InitialAdapterFolder is null ? null : Path.GetFullPath(o.InitialAdapterFolder));
            w.WriteString("init_config", o.InitConfigPath is null ? null : Path.GetFullPath(o.InitConfigPath));
            w.WriteNumber("init_seed", o.InitSeed ?? o.Seed);
            w.WriteString("dtype", o.DType.ToString());
            w.WriteString("mode", o.Mode.ToString());
            if (adapter is not null)
            {
                w.WritePropertyName("adapter");
                using var doc = JsonDocument.Parse(adapter.ToJson());
                doc.WriteTo(w);
            }

            w.WriteBoolean("train_vision_tower", o.Mode == FineTuningMode.Full && o.TrainVisionTower != false);
            w.WriteStartArray("frozen_parameter_prefixes");
            foreach (var prefix in o.FrozenParameterPrefixes)
            {
                w.WriteStringValue(prefix);
            }

            w.WriteEndArray();
            w.WriteNumber("temperature", o.Temperature);
            w.WriteBoolean("symmetric_loss", o.SymmetricLoss);
            w.WriteNumber("hard_negatives", o.HardNegatives);
            w.WriteNumber("batch_size", o.BatchSize);
            WriteNullable(w, "query_chunk_size", o.QueryChunkSize);
            WriteNullable(w, "target_chunk_size", o.TargetChunkSize);
            w.WriteBoolean("shuffle", o.Shuffle);
            w.WriteBoolean("homogeneous_batches", o.HomogeneousBatches);
            w.WriteString("bad_rows", o.BadRows.ToString());
            w.WriteNumber("total_steps", totalSteps);
            w.WriteNumber("warmup_steps", warmupSteps);
            w.WriteNumber("learning_rate", o.LearningRate);
            w.WriteNumber("weight_decay", o.WeightDecay);
            w.WriteNumber("adam_beta1", o.AdamBeta1);
            w.WriteNumber("adam_beta2", o.AdamBeta2);
            w.WriteNumber("adam_epsilon", o.AdamEpsilon);
            w.WriteNumber("max_grad_norm", o.MaxGradNorm ?? 0);
            w.WriteNumber("seed", o.Seed);
            var p = o.Preprocessing;
            w.WriteStartObject("preprocessing");
            w.WriteString("prompt_style", p.PromptStyle.ToString());
            WriteNullable(w, "max_tokens", p.MaxTokens);
            w.WriteString("truncation", p.Truncation.ToString());
            WriteNullable(w, "min_pixels", p.ImageProcessor.MinPixels);
            WriteNullable(w, "max_pixels", p.ImageProcessor.MaxPixels);
            WriteNullable(w, "square_pre_resize", p.ImageProcessor.SquarePreResize);
            w.WriteBoolean("tiny_image_rule", p.ImageProcessor.TinyImageRule);
            w.WriteString("smart_resize", p.ImageProcessor.SmartResizeVariant.ToString());
            w.WriteString("padding", p.Padding?.ToString());
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>SHA-256 (hex) of a string.</summary>
    public static string Fingerprint(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>A fingerprint of the rows (their texts, prompts, image names, datasets, in order).</summary>
    public static string DataFingerprint(IReadOnlyList<ContrastiveExample> examples)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var builder = new StringBuilder();
        foreach (var example in examples)
        {
            builder.Clear();
            Describe(builder, example.Query);
            Describe(builder, example.Positive);
            foreach (var negative in example.Negatives)
            {
                Describe(builder, negative);
            }

            builder.Append(example.Dataset).Append('\u001e');
            hash.AppendData(Encoding.UTF8.GetBytes(builder.ToString()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The full description written to <c>training_args.json</c>: the trajectory plus the run's bookkeeping options.</summary>
    public static string ArgsJson(ContrastiveTrainingOptions o, string trajectoryJson, int exampleCount)
    {
        var trajectory = System.Text.Json.Nodes.JsonNode.Parse(trajectoryJson)!.AsObject();
        trajectory["examples"] = exampleCount;
        trajectory["output_folder"] = Path.GetFullPath(o.OutputFolder);
        trajectory["tokenizer_folder"] = o.TokenizerFolder is null ? null : Path.GetFullPath(o.TokenizerFolder);
        trajectory["save_every_steps"] = o.SaveEverySteps;
        trajectory["keep_checkpoints"] = o.KeepCheckpoints;
        trajectory["merge_adapter"] = o.MergeAdapter;
        trajectory["time_limit_seconds"] = o.TimeLimit?.TotalSeconds;
        trajectory["threads"] = o.Threads;
        trajectory["overlap_preprocessing"] = o.OverlapPreprocessing;
        trajectory["keep_batch_images"] = o.KeepBatchImages;
        trajectory["gradcache_keep_last_chunk_graphs"] = o.GradCacheKeepLastChunkGraphs;
        trajectory["gradcache_reuse_vision_features"] = o.GradCacheReuseVisionFeatures;
        return trajectory.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void Describe(StringBuilder builder, MultimodalInput input)
    {
        builder.Append(input.Instruction).Append('\u001f').Append(input.Text).Append('\u001f').Append(input.Prompt).Append('\u001f');
        foreach (var image in input.Images)
        {
            builder.Append(image.Name).Append('\u001d');
        }

        builder.Append(input.Role.ToString()).Append(input.KeepStrayPlaceholders ? '1' : '0').Append(((int)input.Quirks).ToString(CultureInfo.InvariantCulture)).Append('\u001e');
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
