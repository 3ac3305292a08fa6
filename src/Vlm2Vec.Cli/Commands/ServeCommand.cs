using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Vlm2Vec.Server;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec serve --model FOLDER</c>: the OpenAI-compatible <c>/v1/embeddings</c> server (<see cref="Vlm2VecServerHost"/>)
/// on a model folder. Prints the listening address(es) on stdout once the model is loaded; Ctrl+C (or SIGTERM) stops it
/// gracefully, letting in-flight requests finish. docs/server.md describes the API.
/// </summary>
internal sealed class ServeCommand : VerbCommand
{
    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model folder: a vlm2vec model bundle (vlm2vec.json; ONNX Runtime) or a Hugging Face Qwen2-VL / VLM2Vec checkpoint (TorchSharp).",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string[]> _urls = new("--urls")
    {
        Description = "Address to listen on, http://host:port (repeatable; default http://127.0.0.1:8080, loopback only). Port 0 picks a free port.",
        HelpName = "url",
    };

    private readonly Option<string> _modelName = new("--model-name")
    {
        Description = "The model name clients send in 'model' (default: the model folder's name).",
        HelpName = "name",
    };

    private readonly Option<string[]> _alias = new("--alias")
    {
        Description = "Another model name to accept, e.g. text-embedding-3-small for clients with a fixed name (repeatable).",
        HelpName = "name",
    };

    private readonly Option<string> _apiKeyEnv = new("--api-key-env")
    {
        Description = "Require an API key: read it (or several, comma-separated) from this environment variable. Without it, no key is asked for.",
        HelpName = "variable",
    };

    private readonly Option<string> _instruction = new("--instruction")
    {
        Description = "Instruction for inputs that carry none (default: none).",
        HelpName = "text",
    };

    private readonly Option<int?> _maxBatchSize = new("--max-batch-size") { Description = "Most rows per encoder batch (default 32).", HelpName = "rows" };

    private readonly Option<int?> _maxBatchTokens = new("--max-batch-tokens") { Description = "Most padded tokens per encoder batch (default 16384).", HelpName = "tokens" };

    private readonly Option<double?> _maxWaitMs = new("--max-wait-ms") { Description = "Longest wait for companions of a batch's first input, in ms (default 2).", HelpName = "ms" };

    private readonly Option<int?> _maxQueue = new("--max-queue") { Description = "Most inputs in flight before requests get 429 (default 4096).", HelpName = "inputs" };

    private readonly Option<int?> _maxItems = new("--max-items") { Description = "Most inputs per request (default 2048).", HelpName = "inputs" };

    private readonly Option<double?> _maxBodyMb = new("--max-body-mb") { Description = "Largest request body in MiB (default 32).", HelpName = "MiB" };

    private readonly Option<double?> _maxImageMb = new("--max-image-mb") { Description = "Largest image in MiB after base64 decoding (default 16).", HelpName = "MiB" };

    private readonly Option<long?> _maxImagePixels = new("--max-image-pixels") { Description = "Largest image canvas in pixels (default 40000000).", HelpName = "pixels" };

    private readonly Option<int?> _maxTextChars = new("--max-text-chars") { Description = "Longest text plus instruction of one input, in characters (default 100000).", HelpName = "chars" };

    private readonly Option<int?> _maxInputTokens = new("--max-input-tokens") { Description = "Most tokens per input (default: the model's limit).", HelpName = "tokens" };

    private readonly Option<bool> _truncate = new("--truncate") { Description = "Cut over-long texts (with a warning) instead of answering 400." };

    public ServeCommand(CliRun run)
        : base("serve", "Serve a model over the OpenAI embeddings API (/v1/embeddings) for Kernel Memory, Semantic Kernel and any OpenAI client.", run)
    {
        foreach (var option in new Option[]
        {
            _model, _urls, _modelName, _alias, _apiKeyEnv, _instruction, _maxBatchSize, _maxBatchTokens, _maxWaitMs, _maxQueue, _maxItems,
            _maxBodyMb, _maxImageMb, _maxImagePixels, _maxTextChars, _maxInputTokens, _truncate,
        })
        {
            Options.Add(option);
        }
    }

    public override string HelpEpilogue =>
        """
        The listening address is printed on stdout once the model is loaded; logs go to stderr. Ctrl+C stops the server
        after the requests in flight have finished. GET /health answers 200 once the model is loaded.

        Examples:
          vlm2vec serve --model ./VLM2Vec-Qwen2VL-2B
          VLM2VEC_KEYS=sk-local-123456 vlm2vec serve --model ./model --api-key-env VLM2VEC_KEYS --urls http://0.0.0.0:8080
          vlm2vec serve --model ./model --model-name vlm2vec --alias text-embedding-3-small --max-batch-size 16
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(parseResult.GetRequiredValue(_model));
        var options = BuildOptions(context, parseResult, folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model folder '{folder}' does not exist.");
        }

        var logger = context.CreateLogger("Vlm2Vec.Cli.Serve");
        await using var host = Vlm2VecServerHost.Create(options, ct => ServeModelLoader.LoadAsync(folder, context.LoggerFactory, ct), context.LoggerFactory);
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            if (!context.Quiet)
            {
                context.Error.Write(new Text($"Loading {folder}...\n"));
            }

            await host.WaitForModelAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        foreach (var address in host.Addresses)
        {
            context.WriteResultLine(address.ToString().TrimEnd('/'));
        }

        if (!context.Quiet)
        {
            context.Error.Write(new Text(
                $"Serving '{options.ModelName}' on {string.Join(", ", host.Addresses.Select(a => new Uri(a, "/v1").ToString()))}" +
                $"{(options.ApiKeys.Count > 0 ? " (API key required)" : string.Empty)}. Press Ctrl+C to stop.\n"));
        }

        CliLog.ServeStarted(logger, options.ModelName!, string.Join(", ", host.Addresses));
        await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private Vlm2VecServerOptions BuildOptions(CliContext context, ParseResult parseResult, string folder)
    {
        var defaults = new Vlm2VecServerOptions();
        var limits = defaults.Limits;
        var batching = defaults.Batching;
        var urls = parseResult.GetValue(_urls) is { Length: > 0 } given ? given : [.. defaults.Urls];
        var options = defaults with
        {
            Urls = urls,
            ModelName = parseResult.GetValue(_modelName) ?? Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar)),
            ModelAliases = parseResult.GetValue(_alias) ?? [],
            ApiKeys = ReadKeys(context, parseResult.GetValue(_apiKeyEnv)),
            DefaultInstruction = parseResult.GetValue(_instruction),
            Limits = limits with
            {
                MaxQueuedItems = parseResult.GetValue(_maxQueue) ?? limits.MaxQueuedItems,
                MaxItemsPerRequest = parseResult.GetValue(_maxItems) ?? limits.MaxItemsPerRequest,
                MaxRequestBodyBytes = Mebibytes(parseResult.GetValue(_maxBodyMb)) ?? limits.MaxRequestBodyBytes,
                MaxImageBytes = Mebibytes(parseResult.GetValue(_maxImageMb)) ?? limits.MaxImageBytes,
                MaxImagePixels = parseResult.GetValue(_maxImagePixels) ?? limits.MaxImagePixels,
                MaxTextLength = parseResult.GetValue(_maxTextChars) ?? limits.MaxTextLength,
                MaxInputTokens = parseResult.GetValue(_maxInputTokens),
                TruncateLongInputs = parseResult.GetValue(_truncate),
            },
            Batching = batching with
            {
                MaxBatchSize = parseResult.GetValue(_maxBatchSize) ?? batching.MaxBatchSize,
                MaxBatchTokens = parseResult.GetValue(_maxBatchTokens) ?? batching.MaxBatchTokens,
                MaxWait = parseResult.GetValue(_maxWaitMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : batching.MaxWait,
            },
        };

        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message, ex);
        }

        return options;
    }

    private static long? Mebibytes(double? value) => value is { } mib ? (long)(mib * 1024 * 1024) : null;

    private static List<string> ReadKeys(CliContext context, string? variable)
    {
        if (variable is null)
        {
            return [];
        }

        var value = context.Environment.GetVariable(variable);
        var keys = (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return keys.Count > 0
            ? keys
            : throw new CliUsageException(string.Create(
                CultureInfo.InvariantCulture,
                $"--api-key-env names the environment variable '{variable}', which is not set or empty. Set it to the API key (several: comma-separated), or leave out --api-key-env to serve without a key."));
    }
}
