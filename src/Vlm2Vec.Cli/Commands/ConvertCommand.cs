using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.TorchSharp.Export;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec convert --from &lt;checkpoint&gt; [--adapter &lt;peft&gt;] --to &lt;bundle&gt; [--dtype fp32|fp16]</c>: exports a
/// Hugging Face Qwen2-VL checkpoint (with an optional PEFT LoRA/DoRA adapter merged) to the ONNX model bundle with
/// <see cref="Vlm2VecOnnxExporter"/>, showing a progress bar per stage; prints the bundle folder on stdout.
/// </summary>
internal sealed class ConvertCommand : VerbCommand
{
    private readonly Option<string> _from = new("--from")
    {
        Description = "The Hugging Face checkpoint folder (config.json + safetensors or .bin weights, sharded or not).",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _adapter = new("--adapter")
    {
        Description = "A PEFT LoRA/DoRA adapter folder (adapter_config.json + weights) to merge into the weights.",
        HelpName = "folder",
    };

    private readonly Option<string> _to = new("--to")
    {
        Description = "The bundle folder to create (written beside it in a hidden folder, moved into place when complete).",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _dtype = new("--dtype")
    {
        Description = "Weight dtype: fp32 for CPU serving, fp16 for GPU serving, int8 for faster CPU serving (int8 projection weights, ONNX Runtime CPU only; embeddings within about 0.99 cosine of fp32).",
        HelpName = "fp32|fp16|int8",
        DefaultValueFactory = _ => "fp32",
    };

    private readonly Option<string> _tokenizer = new("--tokenizer")
    {
        Description = "Folder with tokenizer.json and preprocessor_config.json (default: the adapter folder when it has them, else --from).",
        HelpName = "folder",
    };

    private readonly Option<string> _modelId = new("--model-id")
    {
        Description = "Model id recorded in the bundle (default: the adapter folder's name, else the checkpoint folder's).",
        HelpName = "id",
    };

    private readonly Option<int?> _maxTokens = new("--max-tokens")
    {
        Description = "Token limit recorded in the bundle (default: the model's max_position_embeddings).",
        HelpName = "n",
    };

    private readonly Option<bool> _float16Embeddings = new("--fp16-embeddings")
    {
        Description = "fp32 bundles: store the token-embedding table in fp16 (halves small models, whose 151,936-row table is most of the bundle).",
    };

    private readonly Option<bool> _overwrite = new("--overwrite")
    {
        Description = "Replace an existing bundle at --to (a folder that is not a bundle is never replaced).",
    };

    public ConvertCommand(CliRun run)
        : base("convert", "Export a Hugging Face Qwen2-VL checkpoint (+ optional PEFT adapter) to an ONNX model bundle for ONNX Runtime.", run)
    {
        Options.Add(_from);
        Options.Add(_adapter);
        Options.Add(_to);
        Options.Add(_dtype);
        Options.Add(_tokenizer);
        Options.Add(_modelId);
        Options.Add(_maxTokens);
        Options.Add(_float16Embeddings);
        Options.Add(_overwrite);
        _dtype.AcceptOnlyFromAmong("fp32", "fp16", "int8", "float32", "float16");
    }

    public override string HelpEpilogue =>
        """
        The bundle (vlm2vec.json, vision.onnx + text.onnx with external weight data, tokenizer and processor configs) is
        printed on stdout; progress and a summary go to stderr. Everything is checked before anything is written, and a
        cancelled or failed export leaves nothing at --to.

        Examples:
          vlm2vec convert --from ./Qwen2-VL-2B-Instruct --adapter ./VLM2Vec-Qwen2VL-2B --to ./vlm2vec-2b
          vlm2vec convert --from ./Qwen2-VL-2B-Instruct --adapter ./VLM2Vec-Qwen2VL-2B --to ./vlm2vec-2b-fp16 --dtype fp16
          vlm2vec convert --from ./Qwen2-VL-2B-Instruct --adapter ./VLM2Vec-Qwen2VL-2B --to ./vlm2vec-2b-int8 --dtype int8
          vlm2vec convert --from $(vlm2vec pull Qwen/Qwen2-VL-2B-Instruct) --adapter $(vlm2vec pull TIGER-Lab/VLM2Vec-Qwen2VL-2B) --to ./bundle
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var from = parseResult.GetRequiredValue(_from);
        var to = parseResult.GetRequiredValue(_to);
        var adapter = parseResult.GetValue(_adapter);
        var overwrite = parseResult.GetValue(_overwrite);
        var dtype = parseResult.GetValue(_dtype) switch
        {
            "fp16" or "float16" => Vlm2VecExportDType.Float16,
            "int8" => Vlm2VecExportDType.Int8,
            _ => Vlm2VecExportDType.Float32,
        };
        if (!Directory.Exists(from))
        {
            throw new CliUsageException($"--from '{from}' is not a folder. Give a Hugging Face checkpoint folder (vlm2vec pull prints one).");
        }

        if (Directory.Exists(to) && Directory.EnumerateFileSystemEntries(to).Any())
        {
            var isBundle = File.Exists(Path.Combine(to, Vlm2VecBundleManifest.FileName));
            if (!isBundle)
            {
                throw new CliUsageException($"--to '{to}' exists and is not a model bundle; choose a new or empty folder.");
            }

            if (!overwrite)
            {
                throw new CliUsageException($"--to '{to}' already holds a bundle; add --overwrite to replace it.");
            }
        }

        var manifest = await context.WithProgressAsync(ProgressUnit.Bytes, view =>
        {
            var options = new Vlm2VecExportOptions
            {
                DType = dtype,
                TokenizerFolder = parseResult.GetValue(_tokenizer),
                ModelId = parseResult.GetValue(_modelId),
                MaxTokens = parseResult.GetValue(_maxTokens),
                Float16EmbeddingTable = parseResult.GetValue(_float16Embeddings),
                Overwrite = overwrite,
                Progress = new ExportProgressObserver(view),
            };
            return Vlm2VecOnnxExporter.ExportAsync(from, adapter, to, options, cancellationToken);
        }).ConfigureAwait(false);

        WriteSummary(context, manifest, to);
        context.WriteResultLine(Path.GetFullPath(to));
        return ExitCodes.Success;
    }

    private static void WriteSummary(CliContext context, Vlm2VecBundleManifest manifest, string folder)
    {
        if (context.Quiet)
        {
            return;
        }

        context.WriteStatus(new Markup(
            $"[bold]{Markup.Escape(manifest.ModelId)}[/]: {manifest.Architecture}, {manifest.EmbeddingDimension} dimensions, {manifest.DType}" +
            (manifest.Provenance.Adapter is null ? string.Empty : $", adapter {Markup.Escape(Path.GetFileName(manifest.Provenance.Adapter))} merged") + "\n"));
        var table = new Table().AddColumn("file").AddColumn(new TableColumn("size").RightAligned()).AddColumn("sha256");
        foreach (var file in manifest.Files)
        {
            table.AddRow(Markup.Escape(file.Path), ByteSize.Format(file.Bytes), file.Sha256[..12] + "…");
        }

        table.Caption(string.Create(CultureInfo.InvariantCulture, $"{ByteSize.Format(manifest.Files.Sum(f => f.Bytes))} in {Markup.Escape(Path.GetFullPath(folder))}"));
        context.WriteStatus(table);
    }

    /// <summary>One progress line per export stage that has a size (weights read, each graph written, digests).</summary>
    private sealed class ExportProgressObserver(IProgressView view) : IProgress<Vlm2VecExportProgress>
    {
        private readonly Dictionary<Vlm2VecExportStage, IProgressItem> _items = [];
        private readonly Lock _lock = new();
        private IProgressItem? _current;

        public void Report(Vlm2VecExportProgress value)
        {
            lock (_lock)
            {
                if (value.Total <= 0 || value.Stage is Vlm2VecExportStage.Validating or Vlm2VecExportStage.CopyingFiles or Vlm2VecExportStage.Finishing)
                {
                    return;
                }

                if (!_items.TryGetValue(value.Stage, out var item))
                {
                    _current?.Complete();
                    item = view.Add(Describe(value.Stage), value.Total);
                    _items.Add(value.Stage, item);
                    _current = item;
                }

                item.Update(value.Done);
            }
        }

        private static string Describe(Vlm2VecExportStage stage) => stage switch
        {
            Vlm2VecExportStage.LoadingWeights => "reading weights",
            Vlm2VecExportStage.WritingVisionGraph => "writing vision graph",
            Vlm2VecExportStage.WritingTextGraph => "writing text graph",
            Vlm2VecExportStage.WritingManifest => "computing digests",
            _ => stage.ToString(),
        };
    }
}
