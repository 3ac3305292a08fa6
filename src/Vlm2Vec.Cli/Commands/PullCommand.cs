using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec pull &lt;repo-id&gt;</c>: downloads a model repository from the Hugging Face hub into the shared cache
/// (<see cref="HubClient.DownloadSnapshotAsync"/>) with progress bars, then prints the snapshot folder on stdout and a
/// summary on stderr.
/// </summary>
internal sealed class PullCommand : VerbCommand
{
    private readonly Argument<string> _repoId = new("repo-id")
    {
        Description = "The model repository, e.g. TIGER-Lab/VLM2Vec-Qwen2VL-2B.",
    };

    private readonly Option<string> _revision = new("--revision", "-r")
    {
        Description = "Branch, tag or full commit hash to download.",
        HelpName = "revision",
        DefaultValueFactory = _ => "main",
    };

    private readonly Option<string[]> _include = new("--include")
    {
        Description = "Take only files matching this fnmatch pattern (repeatable; '*' crosses '/'). Default: what a VLM2Vec model needs (config, tokenizer, processor, weights, adapter).",
        HelpName = "glob",
    };

    private readonly Option<string[]> _exclude = new("--exclude")
    {
        Description = "Leave out files matching this fnmatch pattern (repeatable; applied after --include).",
        HelpName = "glob",
    };

    private readonly Option<string> _cacheDir = new("--cache-dir")
    {
        Description = "Cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, shared with Python).",
        HelpName = "dir",
    };

    private readonly Option<string> _endpoint = new("--endpoint")
    {
        Description = "Hub address, for a mirror or a private hub (default: HF_ENDPOINT, else the public hub).",
        HelpName = "url",
    };

    private readonly Option<string> _tokenEnv = new("--token-env")
    {
        Description = "Read the access token from this environment variable (default: HF_TOKEN, else the token file 'hf auth login' writes).",
        HelpName = "variable",
    };

    private readonly Option<bool> _offline = new("--offline")
    {
        Description = "Use the cache only, never the network (also when HF_HUB_OFFLINE=1).",
    };

    public PullCommand(CliRun run)
        : base("pull", "Download a model from the Hugging Face hub into the local cache and print its snapshot folder.", run)
    {
        Arguments.Add(_repoId);
        _repoId.Validators.Add(result =>
        {
            // System.CommandLine takes an unknown option in the argument's place as its value: say what it is.
            if (result.Tokens is [{ Value: var value }] && value.StartsWith('-'))
            {
                result.AddError($"{CliApplication.UnknownOptionPrefix} '{value}'.");
            }
        });
        Options.Add(_revision);
        Options.Add(_include);
        Options.Add(_exclude);
        Options.Add(_cacheDir);
        Options.Add(_endpoint);
        Options.Add(_tokenEnv);
        Options.Add(_offline);
    }

    public override string HelpEpilogue =>
        """
        The snapshot folder is printed on stdout (capture it: dir=$(vlm2vec pull ORG/NAME)); progress and the summary go
        to stderr. Files already in the cache are not downloaded again, and an interrupted download resumes.

        Examples:
          vlm2vec pull TIGER-Lab/VLM2Vec-Qwen2VL-2B
          vlm2vec pull TIGER-Lab/VLM2Vec-Qwen2VL-2B --revision v1.0 --include "*.json"
          HF_TOKEN_PRIVATE=hf_xxx vlm2vec pull my-org/private-model --token-env HF_TOKEN_PRIVATE
          vlm2vec pull TIGER-Lab/VLM2Vec-Qwen2VL-2B --offline
        """;

    /// <summary>The file filter for the command line's <c>--include</c>/<c>--exclude</c> patterns.</summary>
    internal static HubFileFilter BuildFilter(IReadOnlyList<string> include, IReadOnlyList<string> exclude)
    {
        if (include.Count == 0 && exclude.Count == 0)
        {
            return HubFileFilter.Vlm2VecModel;
        }

        if (include.Count == 0)
        {
            var model = HubFileFilter.Vlm2VecModel;
            return new HubFileFilter { Include = model.Include, Exclude = [.. model.Exclude, .. exclude], PreferSafetensors = true };
        }

        return new HubFileFilter { Include = [.. include], Exclude = [.. exclude] };
    }

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var repoId = parseResult.GetRequiredValue(_repoId);
        var revision = parseResult.GetValue(_revision) ?? "main";
        var filter = BuildFilter(parseResult.GetValue(_include) ?? [], parseResult.GetValue(_exclude) ?? []);
        var options = new HubClientOptions
        {
            Endpoint = parseResult.GetValue(_endpoint),
            CacheFolder = parseResult.GetValue(_cacheDir),
            Offline = parseResult.GetValue(_offline) ? true : null,
            Token = ReadToken(context, parseResult.GetValue(_tokenEnv)),
            Logger = context.CreateLogger("Vlm2Vec.Hub"),
        };
        context.Environment.ConfigureHubClient?.Invoke(options);

        using var hub = new HubClient(options);
        var logger = context.CreateLogger("Vlm2Vec.Cli.Pull");
        CliLog.PullStarting(logger, repoId, revision, hub.Endpoint, hub.CacheFolder, hub.IsOffline);

        PullProgressObserver? observer = null;
        var folder = await context.WithProgressAsync(ProgressUnit.Bytes, view =>
        {
            observer = new PullProgressObserver(view);
            return hub.DownloadSnapshotAsync(repoId, revision, filter, observer, cancellationToken);
        }).ConfigureAwait(false);

        WriteSummary(context, repoId, revision, folder, observer!, hub.IsOffline);
        context.WriteResultLine(folder);
        return ExitCodes.Success;
    }

    private static string? ReadToken(CliContext context, string? variable)
    {
        if (variable is null)
        {
            return null; // HubClient reads HF_TOKEN or the token file
        }

        var token = context.Environment.GetVariable(variable);
        return string.IsNullOrWhiteSpace(token)
            ? throw new CliUsageException($"--token-env names the environment variable '{variable}', which is not set or empty. Set it to a hub access token, or leave out --token-env to use HF_TOKEN or the token file.")
            : token.Trim();
    }

    private static void WriteSummary(CliContext context, string repoId, string revision, string folder, PullProgressObserver observer, bool offline)
    {
        if (context.Quiet)
        {
            return;
        }

        var downloaded = observer.Downloaded;
        var cached = observer.Cached;
        if (!observer.SawFiles)
        {
            // Offline, or the hub unreachable with a complete snapshot cached: the client hands back the folder as is.
            cached = CountFolder(folder);
        }

        var commit = Path.GetFileName(folder);
        context.WriteStatus(new Markup(
            $"[bold]{Markup.Escape(repoId)}[/] @ {Markup.Escape(revision)} (commit {Markup.Escape(commit.Length > 12 ? commit[..12] : commit)})" +
            (offline ? " [yellow]offline: from the cache[/]" : string.Empty) + "\n"));
        var table = new Table()
            .AddColumn("")
            .AddColumn(new TableColumn("files").RightAligned())
            .AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("bytes").RightAligned());
        AddSummaryRow(table, "downloaded", downloaded.Files, downloaded.Bytes);
        AddSummaryRow(table, "cached", cached.Files, cached.Bytes);
        AddSummaryRow(table, "total", downloaded.Files + cached.Files, downloaded.Bytes + cached.Bytes);
        if (observer.Resumed > 0)
        {
            table.Caption($"{observer.Resumed} transfer(s) resumed from an earlier run");
        }

        context.WriteStatus(table);
    }

    private static void AddSummaryRow(Table table, string label, int files, long bytes) =>
        table.AddRow(
            label,
            files.ToString(CultureInfo.InvariantCulture),
            ByteSize.Format(bytes),
            bytes.ToString(CultureInfo.InvariantCulture));

    private static PullTally CountFolder(string folder)
    {
        var tally = new PullTally();
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var file = new FileInfo(path);
            // Snapshot entries are symlinks to blobs: count the blob's size, not the link's.
            var target = file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
            tally.Add(target.Exists ? target.Length : 0);
        }

        return tally;
    }
}
