using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Vlm2Vec.OnnxRuntime;
using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec bench --model &lt;folder&gt;</c>: measures a model as users run it, end to end through
/// <see cref="Vlm2VecEmbedder"/> (decode, preprocess, tokenise, collate, <c>EncodeAsync</c>, pool): text queries/s and
/// images/s per batch size, per-batch latency p50/p95, the share of the time spent outside the encoder's
/// <c>EncodeAsync</c>, peak working set, engine and device, with the machine's cores, OS, .NET and load average.
/// </summary>
internal sealed class BenchCommand : VerbCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model: a vlm2vec model bundle folder (ONNX Runtime) or a Hugging Face checkpoint folder (TorchSharp).",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _batchSizes = new("--batch-sizes", "-b")
    {
        Description = "Comma-separated batch sizes to measure (inputs per EmbedAsync call).",
        HelpName = "list",
        DefaultValueFactory = _ => "1,8,32",
    };

    private readonly Option<int> _texts = new("--texts")
    {
        Description = "Distinct text queries (synthetic captions, MSCOCO_t2i wording); 0 skips the text rows.",
        HelpName = "N",
        DefaultValueFactory = _ => 64,
    };

    private readonly Option<int> _images = new("--images")
    {
        Description = "Distinct image queries (MSCOCO_i2t wording); 0 skips the image rows.",
        HelpName = "N",
        DefaultValueFactory = _ => 16,
    };

    private readonly Option<int> _imageSize = new("--image-size")
    {
        Description = "Side of the synthetic square JPEG images, pixels.",
        HelpName = "px",
        DefaultValueFactory = _ => 448,
    };

    private readonly Option<string> _imageFolder = new("--image-folder")
    {
        Description = "Use the image files of this folder (read into memory first, decoded while timed) instead of synthetic images.",
        HelpName = "dir",
    };

    private readonly Option<double> _duration = new("--duration")
    {
        Description = "Least timed seconds per workload and batch size (each row also embeds every distinct input at least once).",
        HelpName = "s",
        DefaultValueFactory = _ => 5,
    };

    private readonly Option<int?> _threads = new("--threads")
    {
        Description = "Threads for the engine (ONNX Runtime intra-op, libtorch) and for preprocessing (default: the engine's and the embedder's defaults).",
        HelpName = "n",
    };

    private readonly Option<string> _device = new("--device")
    {
        Description = "The device, in the engine's words (cpu, cuda, cuda:1, auto; default: the engine's choice).",
        HelpName = "name",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the report as JSON on stdout instead of the table.",
    };

    public BenchCommand(CliRun run)
        : base("bench", "Measure a model end to end as users run it: text queries/s and images/s per batch size, latency, time outside the encoder, peak memory.", run)
    {
        Options.Add(_model);
        Options.Add(_batchSizes);
        Options.Add(_texts);
        Options.Add(_images);
        Options.Add(_imageSize);
        Options.Add(_imageFolder);
        Options.Add(_duration);
        Options.Add(_threads);
        Options.Add(_device);
        Options.Add(_json);
    }

    public override string HelpEpilogue =>
        """
        Every row is timed through the embedder, as an application or 'vlm2vec serve' runs the model: JPEG decode, image
        preprocessing, tokenisation, collation, the encoder's EncodeAsync and pooling. 'outside' is the share of that
        time spent outside EncodeAsync. Each row starts with an untimed warm-up call. The table goes to stdout
        (--json: the report as JSON), progress to stderr. Close other work first: the figures depend on the machine's load.

        Examples:
          vlm2vec bench --model ./VLM2Vec-Qwen2VL-2B-bundle
          vlm2vec bench -m ./bundle --batch-sizes 1,8 --images 8 --image-size 224 --duration 2 --json
          vlm2vec bench -m ./bundle --image-folder ./photos --texts 0 --threads 4
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchSizes = ParseBatchSizes(parseResult.GetValue(_batchSizes) ?? "1,8,32");
        var texts = parseResult.GetValue(_texts);
        var images = parseResult.GetValue(_images);
        var imageSize = parseResult.GetValue(_imageSize);
        var duration = parseResult.GetValue(_duration);
        var threads = parseResult.GetValue(_threads);
        if (texts < 0 || images < 0)
        {
            throw new CliUsageException($"--texts and --images must be 0 or more, not {texts} and {images}.");
        }

        if (texts == 0 && images == 0)
        {
            throw new CliUsageException("--texts and --images are both 0: there is nothing to measure.");
        }

        if (imageSize is < 28 or > 4096)
        {
            throw new CliUsageException($"--image-size must be between 28 and 4096 pixels, not {imageSize}.");
        }

        if (!(duration >= 0) || duration > 3600)
        {
            throw new CliUsageException($"--duration must be between 0 and 3600 seconds, not {duration.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (threads is <= 0)
        {
            throw new CliUsageException($"--threads must be positive, not {threads}.");
        }

        var machine = BenchMachine.Current();
        var workload = BenchWorkload.Create(texts, images, imageSize, parseResult.GetValue(_imageFolder));
        using var encoder = new TimedEncoder(OpenModel(parseResult.GetRequiredValue(_model), parseResult.GetValue(_device), threads, context));
        var loadPeak = PeakWorkingSetMiB();
        var settings = new BenchSettings(batchSizes, texts, images, imageSize, workload.ImageSource, duration, threads);
        context.WriteStatus(new Markup(Markup.Escape(string.Create(
            CultureInfo.InvariantCulture,
            $"Benchmarking {encoder.Info.ModelId} ({encoder.Info.Engine}) on {machine.LogicalCores} core(s), load average {BenchMachine.Describe(machine.LoadAverageStart)}\n"))));

        var rows = new List<BenchMeasurement>();
        foreach (var (name, inputs) in new[] { ("text", workload.Texts), ("image", workload.Images) })
        {
            if (inputs.Count == 0)
            {
                continue;
            }

            foreach (var batch in batchSizes)
            {
                var row = await MeasureAsync(encoder, name, inputs, batch, duration, threads, context, cancellationToken).ConfigureAwait(false);
                rows.Add(row);
                context.WriteStatus(new Markup(Markup.Escape(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {name} batch {batch}: {row.ItemsPerSecond:0.##} items/s, p50 {row.LatencyP50Ms:0.#} ms, outside the encoder {row.OutsideEncoderShare:P1}\n"))));
            }
        }

        var report = new BenchReport(
            encoder.Info.ModelId,
            encoder.Info.Engine,
            DeviceOf(encoder.Info.Engine, parseResult.GetValue(_device)),
            encoder.Info.Dimension,
            encoder.Info.DType,
            machine with { LoadAverageEnd = BenchMachine.LoadAverage() },
            settings,
            rows,
            Math.Max(loadPeak, rows.Max(r => r.PeakWorkingSetMiB)));
        if (parseResult.GetValue(_json))
        {
            context.WriteResultLine(JsonSerializer.Serialize(report, JsonOptions));
        }
        else
        {
            WriteTable(context.Out, report);
        }

        return ExitCodes.Success;
    }

    /// <summary>Reads <c>--batch-sizes</c>: positive integers, comma-separated, no repeats.</summary>
    /// <exception cref="CliUsageException">Anything else.</exception>
    internal static IReadOnlyList<int> ParseBatchSizes(string text)
    {
        var sizes = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is <= 0 or > 4096)
            {
                throw new CliUsageException($"--batch-sizes '{text}': '{part}' is not a batch size. Give positive whole numbers up to 4096, comma-separated (e.g. 1,8,32).");
            }

            if (sizes.Contains(size))
            {
                throw new CliUsageException($"--batch-sizes '{text}' names {size} twice.");
            }

            sizes.Add(size);
        }

        return sizes;
    }

    /// <summary>
    /// One row: an untimed warm-up call, then <c>EmbedAsync</c> calls of <paramref name="batch"/> inputs (taken in turn,
    /// wrapping around) until at least <paramref name="duration"/> seconds have passed and every input was embedded once.
    /// </summary>
    private static async Task<BenchMeasurement> MeasureAsync(
        TimedEncoder encoder,
        string workload,
        IReadOnlyList<MultimodalInput> inputs,
        int batch,
        double duration,
        int? threads,
        CliContext context,
        CancellationToken cancellationToken)
    {
        var options = new EmbedderOptions { MaxBatchSize = batch };
        if (threads is { } n)
        {
            options = options with { MaxPreprocessingParallelism = n };
        }

        var embedder = new Vlm2VecEmbedder(encoder, options, context.CreateLogger("Vlm2Vec.Embedder"));
        var next = 0;
        List<MultimodalInput> NextBatch()
        {
            var items = new List<MultimodalInput>(batch);
            for (var i = 0; i < batch; i++, next++)
            {
                items.Add(inputs[next % inputs.Count]);
            }

            return items;
        }

        await embedder.EmbedAsync(NextBatch(), cancellationToken).ConfigureAwait(false); // warm-up: arenas, caches, JIT
        next = 0;
        GC.Collect();
        ResetPeakWorkingSet();
        encoder.Reset();
        var latencies = new List<double>();
        var minimumItems = Math.Max(inputs.Count, batch);
        var total = Stopwatch.StartNew();
        long busyTicks = 0;
        while (next < minimumItems || total.Elapsed.TotalSeconds < duration)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var items = NextBatch();
            var start = Stopwatch.GetTimestamp();
            var vectors = await embedder.EmbedAsync(items, cancellationToken).ConfigureAwait(false);
            var ticks = Stopwatch.GetTimestamp() - start;
            if (vectors.Length != items.Count)
            {
                throw new InvalidOperationException($"The embedder returned {vectors.Length} vectors for {items.Count} inputs.");
            }

            busyTicks += ticks;
            latencies.Add(Stopwatch.GetElapsedTime(0, ticks).TotalMilliseconds);
        }

        var seconds = Stopwatch.GetElapsedTime(0, busyTicks).TotalSeconds;
        var outside = Math.Clamp(1 - (encoder.EncodeTime.TotalSeconds / seconds), 0, 1);
        latencies.Sort();
        return new BenchMeasurement(
            workload,
            batch,
            next,
            latencies.Count,
            encoder.EncodeCalls,
            seconds,
            next / seconds,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            outside,
            PeakWorkingSetMiB());
    }

    /// <summary>Opens the model; with <c>--threads</c>, the engines the tool carries are given that thread count.</summary>
    private static IVlm2VecEncoder OpenModel(string folder, string? device, int? threads, CliContext context)
    {
        if (threads is not { } n || context.Environment.EncoderFactories is not null)
        {
            var opened = ModelLoader.Open(folder, context.Environment, context.LoggerFactory, device);
            if (threads is { } t && opened.Info.Engine.StartsWith("torchsharp", StringComparison.Ordinal))
            {
                global::TorchSharp.torch.set_num_threads(t);
            }

            return opened;
        }

        IVlm2VecEncoderFactory[] engines =
        [
            new OnnxRuntimeEncoderFactory(new OnnxVlm2VecEncoderOptions { IntraOpThreads = n }),
            new TorchSharpEncoderFactory(),
        ];
        var encoder = ModelLoader.Open(folder, engines, context.LoggerFactory, device);
        if (encoder.Info.Engine.StartsWith("torchsharp", StringComparison.Ordinal))
        {
            global::TorchSharp.torch.set_num_threads(n);
        }

        return encoder;
    }

    /// <summary>The device part of an engine name (<c>onnxruntime-cuda</c> → <c>cuda</c>); else the asked-for device.</summary>
    internal static string DeviceOf(string engine, string? requested)
    {
        var dash = engine.LastIndexOf('-');
        return dash > 0 && dash < engine.Length - 1 ? engine[(dash + 1)..] : requested ?? "unknown";
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    internal static double Percentile(List<double> sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>Peak working set of this process so far (since the last reset where the OS allows one), MiB.</summary>
    private static double PeakWorkingSetMiB()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / 1048576.0;
    }

    /// <summary>Resets the kernel's peak-RSS mark (Linux: <c>/proc/self/clear_refs</c>); elsewhere the peak stays the process's.</summary>
    private static void ResetPeakWorkingSet()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not allowed here (some containers): the peak then covers the whole run.
        }
    }

    private static void WriteTable(IAnsiConsole console, BenchReport report)
    {
        var m = report.Machine;
        var s = report.Settings;
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"model {report.ModelId} · engine {report.Engine} · device {report.Device} · dimension {report.Dimension} · {report.DType}")));
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"machine {m.LogicalCores} core(s) · {m.OperatingSystem} {m.Architecture} · {m.Runtime} · load average {BenchMachine.Describe(m.LoadAverageStart)} → {BenchMachine.Describe(m.LoadAverageEnd)}")));
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"workload {s.Texts} text(s), {s.Images} image(s) ({s.ImageSource}) · ≥ {s.DurationSeconds:0.#} s per row · threads {(s.Threads is { } t ? t.ToString(CultureInfo.InvariantCulture) : "default")}")));
        var table = new Table()
            .AddColumn("workload")
            .AddColumn(new TableColumn("batch").RightAligned())
            .AddColumn(new TableColumn("items/s").RightAligned())
            .AddColumn(new TableColumn("p50 ms").RightAligned())
            .AddColumn(new TableColumn("p95 ms").RightAligned())
            .AddColumn(new TableColumn("outside encoder").RightAligned())
            .AddColumn(new TableColumn("peak MiB").RightAligned())
            .AddColumn(new TableColumn("items").RightAligned());
        foreach (var row in report.Results)
        {
            table.AddRow(
                row.Workload,
                row.BatchSize.ToString(CultureInfo.InvariantCulture),
                row.ItemsPerSecond.ToString(row.ItemsPerSecond >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture),
                row.LatencyP50Ms.ToString("0.0", CultureInfo.InvariantCulture),
                row.LatencyP95Ms.ToString("0.0", CultureInfo.InvariantCulture),
                row.OutsideEncoderShare.ToString("P1", CultureInfo.InvariantCulture),
                row.PeakWorkingSetMiB.ToString("0", CultureInfo.InvariantCulture),
                row.Items.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(table);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"peak working set {report.PeakWorkingSetMiB:0} MiB · outside encoder = decode, preprocess, tokenise, collate, pool (time not in EncodeAsync)")));
    }
}
