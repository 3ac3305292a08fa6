using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Runs the MMEB evaluation protocol (spec §2.3, VLM2Vec V1 <c>eval.py</c>) with any <see cref="IVlm2VecEncoder"/>:
/// every unique (text, image) query and candidate of a dataset is embedded once, each row's query is scored against its
/// own candidate list by cosine, the prediction is the argmax (ties to the lowest index, so a tie with the positive counts
/// as a hit), and hit@1 is averaged over rows; then meta-task, IND/OOD and overall means over the datasets present.
/// </summary>
/// <remarks>
/// <para>Rows are used verbatim (spec §1.2, V1 path): the row string is the input's <see cref="MultimodalInput.Prompt"/>,
/// so the preprocessor only replaces MMEB's <c>&lt;|image_1|&gt;</c> with the backbone's placeholder. A text-only input that
/// still carries the placeholder keeps it as an ordinary token (the WebQA/EDIS quirk).</para>
/// <para>Vectors are L2-normalised again after the encoder (a no-op for a conforming encoder), so scores are cosines
/// whatever the encoder. A zero or non-finite vector is an embedding failure.</para>
/// </remarks>
public sealed class MmebEvaluator
{
    private const int MaxProblemMessages = 10;
    private readonly ILogger _logger;

    /// <summary>Creates an evaluator over an embedder (its encoder, preprocessing and batch settings).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public MmebEvaluator(Vlm2VecEmbedder embedder, MmebEvaluationOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        Options = options ?? new MmebEvaluationOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.ChunkSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(Options.ExamplesPerOutcome, nameof(options));
        Embedder = embedder;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Creates an evaluator over an encoder with default batching.</summary>
    public MmebEvaluator(IVlm2VecEncoder encoder, MmebEvaluationOptions? options = null, ILogger? logger = null)
        : this(new Vlm2VecEmbedder(encoder ?? throw new ArgumentNullException(nameof(encoder)), logger: logger), options, logger)
    {
    }

    /// <summary>The embedder.</summary>
    public Vlm2VecEmbedder Embedder { get; }

    /// <summary>The settings.</summary>
    public MmebEvaluationOptions Options { get; }

    /// <summary>Evaluates the datasets in order.</summary>
    /// <exception cref="EvaluationDataException">An input could not be embedded (with <see cref="InvalidDataHandling.Fail"/>), or every row of a dataset failed.</exception>
    /// <exception cref="ArgumentException">No datasets, or two with the same name.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<MmebEvaluationResult> EvaluateAsync(
        IReadOnlyList<MmebEvalDataset> datasets, IProgress<MmebEvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        if (datasets.Count == 0)
        {
            throw new ArgumentException("There are no datasets to evaluate.", nameof(datasets));
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var dataset in datasets)
        {
            ArgumentNullException.ThrowIfNull(dataset, nameof(datasets));
            if (!names.Add(dataset.Name))
            {
                throw new ArgumentException($"Dataset '{dataset.Name}' is given twice.", nameof(datasets));
            }
        }

        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var encoder = Embedder.Encoder;
        var modelDescription = DescribeModel();
        using var cache = Options.EmbeddingCacheFolder is { } folder
            ? PersistentEmbeddingCache.Open(folder, modelDescription, encoder.Info.Dimension, _logger)
            : null;
        var context = new RunContext(cache, PersistentEmbeddingCache.ModelDigest(modelDescription));
        var scores = new List<MmebDatasetScore>(datasets.Count);
        for (var i = 0; i < datasets.Count; i++)
        {
            scores.Add(await EvaluateDatasetAsync(datasets[i], i, datasets.Count, context, progress, cancellationToken).ConfigureAwait(false));
        }

        return new MmebEvaluationResult
        {
            Model = encoder.Info,
            Settings = new MmebEvaluationSettings
            {
                ComputeNdcg = Options.ComputeNdcg,
                EmbeddingCacheFolder = cache is null ? null : Options.EmbeddingCacheFolder,
                EmbeddingFailures = Options.EmbeddingFailures,
                MaxBatchSize = Embedder.Options.MaxBatchSize,
                MaxBatchTokens = Embedder.Options.MaxBatchTokens,
                PromptStyle = Embedder.Preprocessor.Options.PromptStyle,
                ImagePlaceholder = Embedder.Preprocessor.Formatter.Options.ImagePlaceholder,
                RowLimit = Options.RowLimit,
            },
            Datasets = scores,
            Aggregates = MmebAggregation.Compute(scores),
            NdcgAggregates = Options.ComputeNdcg ? MmebAggregation.Compute(scores, s => s.NdcgAt5) : null,
            StartedAt = started,
            Duration = clock.Elapsed,
        };
    }

    private string DescribeModel()
    {
        var info = Embedder.Encoder.Info;
        return $"model={info.ModelId}\nengine={info.Engine}\ndtype={info.DType}\ndimension={info.Dimension}\narchitecture={info.Architecture}\n" +
            $"preprocessing={Embedder.Preprocessor.Options}";
    }

    private async Task<MmebDatasetScore> EvaluateDatasetAsync(
        MmebEvalDataset dataset, int index, int count, RunContext context, IProgress<MmebEvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        var plan = DatasetPlan.Build(dataset);
        var dimension = Embedder.Encoder.Info.Dimension;
        var tracker = new ProgressTracker(dataset.Name, index, count, plan.Queries.Count + plan.Candidates.Count, progress);
        var embedClock = Stopwatch.StartNew();
        var queries = new SideState(plan.Queries, plan.QueryOrigins, EmbeddingRole.Query, dimension);
        var candidates = new SideState(plan.Candidates, plan.CandidateOrigins, EmbeddingRole.Target, dimension);
        tracker.Report(MmebEvaluationStage.Embedding);
        LookUpCache(plan, queries, context, tracker);
        LookUpCache(plan, candidates, context, tracker);
        EvaluationLog.DatasetPlan(_logger, dataset.Name, dataset.Rows.Count, plan.Queries.Count, plan.Candidates.Count, tracker.Cached);
        if (tracker.Cached > 0)
        {
            tracker.Report(MmebEvaluationStage.Embedding);
        }

        await EmbedAsync(plan, queries, context, tracker, cancellationToken).ConfigureAwait(false);
        await EmbedAsync(plan, candidates, context, tracker, cancellationToken).ConfigureAwait(false);
        context.Cache?.Flush();
        embedClock.Stop();

        tracker.Report(MmebEvaluationStage.Scoring);
        var scoreClock = Stopwatch.StartNew();
        var outcome = Score(plan, queries, candidates, cancellationToken);
        scoreClock.Stop();

        var problems = new List<string>(dataset.SkippedRowMessages);
        foreach (var message in queries.Problems.Concat(candidates.Problems))
        {
            if (problems.Count < MaxProblemMessages)
            {
                problems.Add(message);
            }
        }

        if (outcome.Failed > 0)
        {
            EvaluationLog.RowsFailed(_logger, dataset.Name, outcome.Failed, outcome.Scored);
        }

        if (outcome.Scored == 0)
        {
            throw new EvaluationDataException(
                $"Dataset '{dataset.Name}': none of its {dataset.Rows.Count} row(s) could be scored; the first problem: {problems.FirstOrDefault() ?? "unknown"}",
                dataset.SourcePaths.FirstOrDefault(),
                0,
                null);
        }

        var n = (double)outcome.Scored;
        var score = new MmebDatasetScore
        {
            Name = dataset.Name,
            Catalog = dataset.Catalog,
            MetaTask = dataset.MetaTask,
            IsOutOfDistribution = dataset.IsOutOfDistribution,
            Rows = dataset.Rows.Count,
            ScoredRows = outcome.Scored,
            FailedRows = outcome.Failed,
            SkippedRows = dataset.SkippedRowCount,
            HitAt1 = 100.0 * outcome.Hits / n,
            RecallAt5 = 100.0 * outcome.HitsAt5 / n,
            Mrr = 100.0 * outcome.ReciprocalRankSum / n,
            NdcgAt5 = Options.ComputeNdcg ? 100.0 * outcome.NdcgSum / n : null,
            UniqueQueries = plan.Queries.Count,
            UniqueCandidates = plan.Candidates.Count,
            CandidateSlots = plan.RowCandidates.LongLength,
            EmbeddedInputs = queries.Embedded + candidates.Embedded,
            CachedInputs = queries.Cached + candidates.Cached,
            EmbeddingTime = embedClock.Elapsed,
            ScoringTime = scoreClock.Elapsed,
            ImageRoot = dataset.ImageRoot,
            SourcePaths = dataset.SourcePaths,
            Examples = PickExamples(plan, outcome.Rows),
            Problems = problems,
        };
        tracker.Report(MmebEvaluationStage.DatasetCompleted, score);
        return score;
    }

    private void LookUpCache(DatasetPlan plan, SideState side, RunContext context, ProgressTracker tracker)
    {
        if (context.Cache is not { } cache)
        {
            return;
        }

        for (var i = 0; i < side.Keys.Count; i++)
        {
            var key = side.Keys[i];
            if (context.ImageDigest(plan.Dataset, key.ImagePath) is not { } imageDigest)
            {
                continue; // unreadable image: the embedder reports it
            }

            side.CacheKeys[i] = context.EntryKey(side.Role, key.Text, imageDigest);
            if (cache.TryGet(side.CacheKeys[i]!.Value, side.Vectors.AsSpan(i * side.Dimension, side.Dimension)))
            {
                side.Done[i] = true;
                side.Cached++;
                tracker.Advance(1, cached: true);
            }
        }
    }

    private async Task EmbedAsync(DatasetPlan plan, SideState side, RunContext context, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        var pending = new List<int>();
        for (var i = 0; i < side.Keys.Count; i++)
        {
            if (!side.Done[i])
            {
                pending.Add(i);
            }
        }

        for (var start = 0; start < pending.Count; start += Options.ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = pending.GetRange(start, Math.Min(Options.ChunkSize, pending.Count - start));
            var inputs = new MultimodalInput[chunk.Count];
            for (var i = 0; i < chunk.Count; i++)
            {
                inputs[i] = CreateInput(plan.Dataset, side.Keys[chunk[i]], side.Role);
            }

            var results = await Embedder.EmbedEachAsync(inputs, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Count; i++)
            {
                var item = chunk[i];
                var result = results[i];
                var destination = side.Vectors.AsSpan(item * side.Dimension, side.Dimension);
                string? failure = result.Succeeded ? Normalise(result.Embedding!, destination) : result.Error!.InnerException?.Message ?? result.Error.Message;
                if (failure is null)
                {
                    side.Done[item] = true;
                    side.Embedded++;
                    if (context.Cache is { } cache && side.CacheKeys[item] is { } key)
                    {
                        cache.Add(key, destination);
                    }

                    continue;
                }

                var (row, field) = side.Origins[item];
                var message = $"{plan.Locate(row, field)}: the {(side.Role == EmbeddingRole.Query ? "query" : "candidate")} could not be embedded: {failure}";
                if (Options.EmbeddingFailures == InvalidDataHandling.Fail)
                {
                    throw new EvaluationDataException(
                        message + " (Leave such rows out with InvalidDataHandling.Skip / --skip-invalid.)",
                        plan.Dataset.Rows[row].SourcePath,
                        plan.Dataset.Rows[row].LineNumber,
                        field,
                        result.Error?.InnerException ?? result.Error);
                }

                side.Failed[item] = true;
                if (side.Problems.Count < MaxProblemMessages)
                {
                    side.Problems.Add(message);
                }

                EvaluationLog.InputFailed(_logger, plan.Dataset.Name, message);
            }

            tracker.Advance(chunk.Count, cached: false);
        }
    }

    /// <summary>Copies <paramref name="vector"/> into <paramref name="destination"/> with unit length; returns a problem or null.</summary>
    private static string? Normalise(float[] vector, Span<float> destination)
    {
        if (vector.Length != destination.Length)
        {
            return $"the encoder returned {vector.Length} values; the model's dimension is {destination.Length}";
        }

        var norm = TensorPrimitives.Norm(vector);
        if (!float.IsFinite(norm) || norm == 0)
        {
            return "the encoder returned a zero or non-finite vector";
        }

        TensorPrimitives.Divide(vector, norm, destination);
        return null;
    }

    internal static MultimodalInput CreateInput(MmebEvalDataset dataset, EvaluationInputKey key, EmbeddingRole role) => new()
    {
        Prompt = key.Text,
        Images = key.ImagePath.Length == 0 ? [] : [ImageInput.FromFile(dataset.ResolveImagePath(key.ImagePath))],
        Role = role,

        // MMEB's text-only WebQA/EDIS queries keep their placeholder as an ordinary token, as VLM2Vec does (spec §1.2).
        KeepStrayPlaceholders = key.ImagePath.Length == 0,
    };

    private static ScoreOutcome Score(DatasetPlan plan, SideState queries, SideState candidates, CancellationToken cancellationToken)
    {
        var rows = plan.Dataset.Rows.Count;
        var outcomes = new RowOutcome[rows];
        var dimension = queries.Dimension;
        var parallel = new ParallelOptions { CancellationToken = cancellationToken };

        // Rows are independent: score them in parallel, each worker with its own pooled score buffer.
        Parallel.For(
            0,
            rows,
            parallel,
            () => ArrayPool<float>.Shared.Rent(Math.Max(1, plan.MaxCandidates)),
            (r, _, scores) =>
            {
                var q = plan.RowQuery[r];
                var ids = plan.CandidatesOf(r);
                var failed = queries.Failed[q];
                for (var j = 0; j < ids.Length && !failed; j++)
                {
                    failed = candidates.Failed[ids[j]];
                }

                if (failed)
                {
                    outcomes[r] = new RowOutcome(Scored: false, 0, 0, 0, 0);
                    return scores;
                }

                var query = queries.Vectors.AsSpan(q * dimension, dimension);
                var rowScores = scores.AsSpan(0, ids.Length);
                for (var j = 0; j < ids.Length; j++)
                {
                    rowScores[j] = TensorPrimitives.Dot(query, candidates.Vectors.AsSpan(ids[j] * dimension, dimension));
                }

                var rank = RetrievalMetrics.RankOfPositive(rowScores);
                var predicted = RetrievalMetrics.PredictedIndex(rowScores);
                outcomes[r] = new RowOutcome(Scored: true, rank, predicted, rowScores[0], rowScores[predicted]);
                return scores;
            },
            scores => ArrayPool<float>.Shared.Return(scores));

        // Sums in row order, so results do not depend on the thread schedule.
        var outcome = new ScoreOutcome { Rows = outcomes };
        foreach (var row in outcomes)
        {
            if (!row.Scored)
            {
                outcome.Failed++;
                continue;
            }

            outcome.Scored++;
            outcome.Hits += row.Rank == 1 ? 1 : 0;
            outcome.HitsAt5 += row.Rank <= 5 ? 1 : 0;
            outcome.ReciprocalRankSum += RetrievalMetrics.ReciprocalRank(row.Rank);
            outcome.NdcgSum += RetrievalMetrics.NdcgAt(row.Rank, 5);
        }

        return outcome;
    }

    private List<MmebRowExample> PickExamples(DatasetPlan plan, RowOutcome[] rows)
    {
        var hits = new List<int>();
        var misses = new List<int>();
        for (var r = 0; r < rows.Length; r++)
        {
            if (rows[r].Scored)
            {
                (rows[r].Rank == 1 ? hits : misses).Add(r);
            }
        }

        var examples = new List<MmebRowExample>();
        foreach (var pool in new[] { hits, misses })
        {
            var take = Math.Min(Options.ExamplesPerOutcome, pool.Count);
            for (var k = 0; k < take; k++)
            {
                // Spread over the dataset: the middle of each of `take` equal slices.
                var r = pool[(int)((k + 0.5) * pool.Count / take)];
                examples.Add(Example(plan, r, rows[r]));
            }
        }

        return examples;
    }

    private MmebRowExample Example(DatasetPlan plan, int r, RowOutcome outcome)
    {
        var row = plan.Dataset.Rows[r];
        return new MmebRowExample
        {
            LineNumber = row.LineNumber,
            Hit = outcome.Rank == 1,
            PositiveRank = outcome.Rank,
            CandidateCount = row.CandidateCount,
            Query = Describe(plan.Dataset, new EvaluationInputKey(row.QueryText, row.QueryImagePath), EmbeddingRole.Query),
            Positive = Describe(plan.Dataset, new EvaluationInputKey(row.TargetTexts[0], row.TargetImagePaths[0]), EmbeddingRole.Target),
            PositiveScore = outcome.PositiveScore,
            PredictedIndex = outcome.Predicted,
            Predicted = Describe(plan.Dataset, new EvaluationInputKey(row.TargetTexts[outcome.Predicted], row.TargetImagePaths[outcome.Predicted]), EmbeddingRole.Target),
            PredictedScore = outcome.PredictedScore,
        };
    }

    private MmebExampleInput Describe(MmebEvalDataset dataset, EvaluationInputKey key, EmbeddingRole role)
    {
        string prompt;
        try
        {
            prompt = Embedder.Preprocessor.FormatPrompt(CreateInput(dataset, key, role));
        }
        catch (Vlm2VecException)
        {
            prompt = key.Text;
        }

        return key.ImagePath.Length == 0
            ? new MmebExampleInput(prompt, null, null)
            : new MmebExampleInput(prompt, key.ImagePath, dataset.ResolveImagePath(key.ImagePath));
    }

    private readonly record struct RowOutcome(bool Scored, int Rank, int Predicted, float PositiveScore, float PredictedScore);

    private sealed class ScoreOutcome
    {
        public required RowOutcome[] Rows { get; init; }

        public int Scored { get; set; }

        public int Failed { get; set; }

        public int Hits { get; set; }

        public int HitsAt5 { get; set; }

        public double ReciprocalRankSum { get; set; }

        public double NdcgSum { get; set; }
    }

    private sealed class SideState
    {
        public SideState(List<EvaluationInputKey> keys, List<(int Row, string Field)> origins, EmbeddingRole role, int dimension)
        {
            Keys = keys;
            Origins = origins;
            Role = role;
            Dimension = dimension;
            Vectors = new float[checked(keys.Count * dimension)];
            Done = new bool[keys.Count];
            Failed = new bool[keys.Count];
            CacheKeys = new EmbeddingKey?[keys.Count];
        }

        public List<EvaluationInputKey> Keys { get; }

        public List<(int Row, string Field)> Origins { get; }

        public EmbeddingRole Role { get; }

        public int Dimension { get; }

        public float[] Vectors { get; }

        public bool[] Done { get; }

        public bool[] Failed { get; }

        public EmbeddingKey?[] CacheKeys { get; }

        public List<string> Problems { get; } = [];

        public int Embedded { get; set; }

        public int Cached { get; set; }
    }

    private sealed class RunContext
    {
        private static readonly byte[] NoImage = new byte[32];
        private readonly Dictionary<string, byte[]?> _imageDigests = new(StringComparer.Ordinal);
        private readonly byte[] _modelDigest;

        public RunContext(PersistentEmbeddingCache? cache, byte[] modelDigest)
        {
            Cache = cache;
            _modelDigest = modelDigest;
        }

        public PersistentEmbeddingCache? Cache { get; }

        /// <summary>The SHA-256 of an image file's bytes (all zeros for no image); null when it cannot be read.</summary>
        public byte[]? ImageDigest(MmebEvalDataset dataset, string imagePath)
        {
            if (imagePath.Length == 0)
            {
                return NoImage;
            }

            var full = dataset.ResolveImagePath(imagePath);
            if (!_imageDigests.TryGetValue(full, out var digest))
            {
                try
                {
                    using var stream = File.OpenRead(full);
                    digest = SHA256.HashData(stream);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    digest = null;
                }

                _imageDigests[full] = digest;
            }

            return digest;
        }

        /// <summary>SHA-256 over (model digest, side, UTF-8 string, image digest).</summary>
        public EmbeddingKey EntryKey(EmbeddingRole role, string text, byte[] imageDigest)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(_modelDigest);
            hash.AppendData(role == EmbeddingRole.Query ? "Q"u8 : "T"u8);
            hash.AppendData(imageDigest);
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            Span<byte> digest = stackalloc byte[32];
            hash.GetHashAndReset(digest);
            return EmbeddingKey.FromBytes(digest);
        }
    }

    private sealed class ProgressTracker(string dataset, int index, int count, int total, IProgress<MmebEvaluationProgress>? progress)
    {
        public int Completed { get; private set; }

        public int Cached { get; private set; }

        public void Advance(int items, bool cached)
        {
            Completed += items;
            if (cached)
            {
                Cached += items;
                return; // cache hits are reported with the next embedding report
            }

            Report(MmebEvaluationStage.Embedding);
        }

        public void Report(MmebEvaluationStage stage, MmebDatasetScore? score = null) => progress?.Report(new MmebEvaluationProgress
        {
            Stage = stage,
            Dataset = dataset,
            DatasetIndex = index,
            DatasetCount = count,
            Completed = Completed,
            Total = total,
            Cached = Cached,
            Score = score,
        });
    }
}
