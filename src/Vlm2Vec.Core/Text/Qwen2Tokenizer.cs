using System.Buffers;
using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The Qwen2 / Qwen2-VL tokenizer: byte-level BPE read from a Hugging Face <c>tokenizer.json</c> (or a
/// <c>vocab.json</c> + <c>merges.txt</c> folder), with the same ids as the Hugging Face <c>tokenizers</c> library.
/// </summary>
/// <remarks>
/// <para>
/// Encoding follows the reference step by step: added tokens (such as <c>&lt;|image_pad|&gt;</c>) are matched as whole
/// strings first (leftmost-longest, honouring their <c>lstrip</c>, <c>rstrip</c>, <c>single_word</c> and
/// <c>normalized</c> flags); the text between them is normalized (NFC for Qwen), split by the pre-tokenizer (the Qwen2
/// regex: letters with one leading non-letter, single digits, punctuation runs, white space), mapped to byte-level
/// characters, and merged by BPE rank. No BOS/EOS is added. The normalizer, pre-tokenizer and added tokens are read from
/// the file, so small test tokenizers with other vocabularies and ids work too; features that would change ids and are
/// not supported are refused with a <see cref="ModelFormatException"/> naming them. The <c>truncation</c> and
/// <c>padding</c> sections of tokenizer.json are not applied: length limits and padding belong to batch collation.
/// </para>
/// <para>
/// Instances are immutable apart from the merge cache, which is lock-free: any number of threads may encode and decode at
/// once.
/// </para>
/// </remarks>
public sealed class Qwen2Tokenizer
{
    private const int MaxPooledEncodeLength = 1 << 17;

    private readonly ByteLevelBpeModel _model;
    private readonly TextNormalizer _normalizer;
    private readonly PreTokenizerStage[] _stages;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly Dictionary<int, AddedTokenSpec> _addedById;
    private readonly HashSet<string> _specialContents;
    private readonly string?[] _vocabById;
    private readonly Lazy<DecodeTable> _decodeTable;
    private int _maxAddedId = -1;

    private Qwen2Tokenizer(TokenizerDefinition definition, TokenizerConfigFile? config, Qwen2TokenizerOptions options)
    {
        _model = new ByteLevelBpeModel(
            definition.Vocabulary,
            definition.Merges,
            definition.UnknownToken,
            definition.FuseUnknown,
            definition.IgnoreMerges,
            options.MergeCacheCapacity);
        _normalizer = new TextNormalizer(definition.NormalizationForms);
        _stages = [.. definition.PreTokenizerStages];

        var maxVocabId = -1;
        foreach (var id in definition.Vocabulary.Values)
        {
            maxVocabId = Math.Max(maxVocabId, id);
        }

        _vocabById = new string?[maxVocabId + 1];
        foreach (var (token, id) in definition.Vocabulary)
        {
            _vocabById[id] = token;
        }

        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        _addedById = [];
        _specialContents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (token, declaredId) in definition.AddedTokens)
        {
            AddToken(token, declaredId, definition.Source);
        }

        if (config is not null)
        {
            // As transformers does on load: added_tokens_decoder entries the tokenizer lacks are added, then the
            // special-token strings (pad, eos, bos, unk, additional) that are not added tokens yet.
            foreach (var (token, declaredId) in config.AddedTokens)
            {
                if (!_addedByContent.ContainsKey(token.Content))
                {
                    AddToken(token, declaredId, "tokenizer_config.json");
                }
            }

            string?[] specials = [config.PadToken, config.EosToken, config.BosToken, config.UnknownToken, .. config.AdditionalSpecialTokens];
            foreach (var content in specials)
            {
                if (content is { Length: > 0 } && !_addedByContent.ContainsKey(content))
                {
                    AddToken(new AddedTokenSpec(-1, content, false, false, false, Normalized: false, Special: true), null, "tokenizer_config.json");
                }
            }

            PadToken = config.PadToken;
            EosToken = config.EosToken;
            BosToken = config.BosToken;
            ModelMaxLength = config.ModelMaxLength;
            PaddingSide = config.PaddingSide;
            SplitSpecialTokens = config.SplitSpecialTokens;
        }

        var raw = new List<(string, AddedTokenSpec)>();
        var normalized = new List<(string, AddedTokenSpec)>();
        foreach (var token in _addedById.Values)
        {
            if (token.Normalized)
            {
                normalized.Add((_normalizer.Normalize(token.Content), token));
            }
            else
            {
                raw.Add((token.Content, token));
            }
        }

        _rawMatcher = new AddedTokenMatcher(raw);
        _normalizedMatcher = new AddedTokenMatcher(normalized);

        var maxId = maxVocabId;
        var distinct = _model.VocabularyCount;
        foreach (var (content, id) in _addedByContent)
        {
            maxId = Math.Max(maxId, id);
            if (!_model.TryGetId(content, out _))
            {
                distinct++;
            }
        }

        MaxTokenId = maxId;
        VocabularySize = distinct;
        AddedTokens = _addedByContent.AsReadOnly();
        PadTokenId = PadToken is null ? null : TokenToId(PadToken);
        EosTokenId = EosToken is null ? null : TokenToId(EosToken);
        BosTokenId = BosToken is null ? null : TokenToId(BosToken);
        _decodeTable = new Lazy<DecodeTable>(BuildDecodeTable, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Distinct tokens: the BPE vocabulary plus the added tokens that are not in it (Hugging Face
    /// <c>get_vocab_size(with_added_tokens=True)</c>, transformers <c>len(tokenizer)</c>; 151,657 for Qwen2-VL). The
    /// model's embedding may have more rows (151,936): ids without a token.
    /// </summary>
    public int VocabularySize { get; }

    /// <summary>The highest id any token has (151,656 for Qwen2-VL): every id encoding produces is at most this.</summary>
    public int MaxTokenId { get; }

    /// <summary>The added tokens (special and not) by text, such as <c>&lt;|image_pad|&gt;</c> → 151655.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <summary>The padding token from tokenizer_config.json (<c>&lt;|endoftext|&gt;</c> for Qwen2-VL), or null.</summary>
    public string? PadToken { get; }

    /// <summary>The id of <see cref="PadToken"/>, or null.</summary>
    public int? PadTokenId { get; }

    /// <summary>The end-of-sequence token from tokenizer_config.json, or null. Never added by encoding.</summary>
    public string? EosToken { get; }

    /// <summary>The id of <see cref="EosToken"/>, or null.</summary>
    public int? EosTokenId { get; }

    /// <summary>The beginning-of-sequence token from tokenizer_config.json (null for Qwen2-VL). Never added by encoding.</summary>
    public string? BosToken { get; }

    /// <summary>The id of <see cref="BosToken"/>, or null.</summary>
    public int? BosTokenId { get; }

    /// <summary><c>model_max_length</c> from tokenizer_config.json (32,768 for Qwen2-VL), or null when none is set.</summary>
    public int? ModelMaxLength { get; }

    /// <summary><c>padding_side</c> from tokenizer_config.json (left for Qwen2-VL), or null.</summary>
    public PaddingSide? PaddingSide { get; }

    /// <summary>
    /// <c>split_special_tokens</c> from tokenizer_config.json: when true, the overloads without a
    /// <c>parseSpecialTokens</c> argument encode special tokens written in the text as plain text.
    /// </summary>
    public bool SplitSpecialTokens { get; }

    /// <summary>Pre-tokens in the merge cache now (for diagnostics).</summary>
    internal int CachedPieceCount => _model.CachedPieceCount;

    /// <summary>The BPE model (tests compare its two merge paths).</summary>
    internal ByteLevelBpeModel Model => _model;

    /// <summary>Loads a tokenizer.json, and the tokenizer_config.json when a path is given.</summary>
    /// <exception cref="ModelFormatException">A file is missing, is not valid JSON, or uses an unsupported feature.</exception>
    public static Qwen2Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        FromFile(tokenizerJsonPath, tokenizerConfigPath, new Qwen2TokenizerOptions());

    /// <summary>Loads a tokenizer.json (and optionally a tokenizer_config.json) with the given options.</summary>
    /// <exception cref="ModelFormatException">A file is missing, is not valid JSON, or uses an unsupported feature.</exception>
    public static Qwen2Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath, Qwen2TokenizerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        ArgumentNullException.ThrowIfNull(options);
        var definition = TokenizerJsonReader.ReadTokenizerJson(RequireFile(tokenizerJsonPath), tokenizerJsonPath);
        var config = tokenizerConfigPath is null
            ? null
            : TokenizerJsonReader.ReadTokenizerConfig(RequireFile(tokenizerConfigPath), tokenizerConfigPath);
        return new Qwen2Tokenizer(definition, config, options);
    }

    /// <summary>
    /// Loads a tokenizer folder: <c>tokenizer.json</c> when present, else <c>vocab.json</c> + <c>merges.txt</c> (built
    /// the way transformers converts a slow Qwen2 tokenizer); plus <c>tokenizer_config.json</c> when present.
    /// </summary>
    /// <exception cref="ModelFormatException">The folder has neither form, or a file cannot be used.</exception>
    public static Qwen2Tokenizer FromFolder(string folder) => FromFolder(folder, new Qwen2TokenizerOptions());

    /// <summary>Loads a tokenizer folder with the given options (see <see cref="FromFolder(string)"/>).</summary>
    /// <exception cref="ModelFormatException">The folder has neither form, or a file cannot be used.</exception>
    public static Qwen2Tokenizer FromFolder(string folder, Qwen2TokenizerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Tokenizer folder '{folder}' does not exist.");
        }

        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var hasConfig = File.Exists(configPath);
        var jsonPath = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(jsonPath))
        {
            return FromFile(jsonPath, hasConfig ? configPath : null, options);
        }

        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
        {
            throw new ModelFormatException(
                $"Tokenizer folder '{folder}' has no tokenizer.json and no vocab.json + merges.txt pair.");
        }

        var config = hasConfig ? TokenizerJsonReader.ReadTokenizerConfig(TokenizerJsonReader.ReadAllBytes(configPath), configPath) : null;
        return new Qwen2Tokenizer(TokenizerJsonReader.ReadVocabAndMerges(vocabPath, mergesPath, config), config, options);
    }

    /// <summary>Loads a tokenizer from the contents of a tokenizer.json (and optionally a tokenizer_config.json).</summary>
    /// <exception cref="ModelFormatException">The JSON is invalid or uses an unsupported feature.</exception>
    public static Qwen2Tokenizer FromJson(
        ReadOnlyMemory<byte> tokenizerJson,
        ReadOnlyMemory<byte>? tokenizerConfigJson = null,
        Qwen2TokenizerOptions? options = null)
    {
        var definition = TokenizerJsonReader.ReadTokenizerJson(tokenizerJson, "tokenizer.json");
        var config = tokenizerConfigJson is { } configJson
            ? TokenizerJsonReader.ReadTokenizerConfig(configJson, "tokenizer_config.json")
            : null;
        return new Qwen2Tokenizer(definition, config, options ?? new Qwen2TokenizerOptions());
    }

    /// <summary>Encodes text into token ids. Special tokens written in the text (<c>&lt;|image_pad|&gt;</c>) become their ids.</summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate (it has no UTF-8 form).</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Encode(text.AsSpan(), !SplitSpecialTokens);
    }

    /// <summary>Encodes text into token ids.</summary>
    /// <param name="text">The text.</param>
    /// <param name="parseSpecialTokens">
    /// True: special tokens written in the text become their ids. False: they are encoded as the plain text they are (for
    /// untrusted text that must not inject control tokens); non-special added tokens are still matched.
    /// </param>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public int[] Encode(ReadOnlySpan<char> text, bool parseSpecialTokens)
    {
        // No text gives more tokens than UTF-8 bytes (at most 3 per UTF-16 unit), so a pooled buffer of that size always
        // holds the result and the returned array is the only allocation.
        if (text.Length <= MaxPooledEncodeLength)
        {
            var buffer = ArrayPool<int>.Shared.Rent((text.Length * 3) + 1);
            try
            {
                var sink = new SpanTokenSink(buffer);
                EncodeCore(text, parseSpecialTokens, ref sink);
                return buffer.AsSpan(0, sink.Count).ToArray();
            }
            finally
            {
                ArrayPool<int>.Shared.Return(buffer);
            }
        }

        var ids = new List<int>(text.Length / 3);
        var listSink = new ListTokenSink(ids);
        EncodeCore(text, parseSpecialTokens, ref listSink);
        return [.. ids];
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="destination"/>; returns how many were appended.</summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public int Encode(ReadOnlySpan<char> text, List<int> destination) => Encode(text, destination, !SplitSpecialTokens);

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="destination"/>; returns how many were appended.</summary>
    /// <param name="text">The text.</param>
    /// <param name="destination">The list to append to.</param>
    /// <param name="parseSpecialTokens">Whether special tokens in the text become their ids (see <see cref="Encode(ReadOnlySpan{char}, bool)"/>).</param>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public int Encode(ReadOnlySpan<char> text, List<int> destination, bool parseSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var before = destination.Count;
        var sink = new ListTokenSink(destination);
        EncodeCore(text, parseSpecialTokens, ref sink);
        return destination.Count - before;
    }

    /// <summary>
    /// Writes the ids of <paramref name="text"/> into <paramref name="destination"/>. Returns false, with
    /// <paramref name="tokensWritten"/> 0, when they do not fit (<see cref="CountTokens(string)"/> says how many there are).
    /// </summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, out int tokensWritten) =>
        TryEncode(text, destination, !SplitSpecialTokens, out tokensWritten);

    /// <summary>Writes the ids of <paramref name="text"/> into <paramref name="destination"/> (see the overload without <paramref name="parseSpecialTokens"/>).</summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, bool parseSpecialTokens, out int tokensWritten)
    {
        var sink = new SpanTokenSink(destination);
        EncodeCore(text, parseSpecialTokens, ref sink);
        if (sink.Overflowed)
        {
            tokensWritten = 0;
            return false;
        }

        tokensWritten = sink.Count;
        return true;
    }

    /// <summary>How many tokens <see cref="Encode(string)"/> gives for <paramref name="text"/>, without allocating them.</summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CountTokens(text.AsSpan(), !SplitSpecialTokens);
    }

    /// <summary>How many tokens <paramref name="text"/> encodes to.</summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public int CountTokens(ReadOnlySpan<char> text, bool parseSpecialTokens)
    {
        var sink = new CountingTokenSink();
        EncodeCore(text, parseSpecialTokens, ref sink);
        return sink.Count;
    }

    /// <summary>
    /// The token strings of <paramref name="text"/>, as Hugging Face shows them (byte-level form: <c>Ġcat</c> for
    /// " cat"; added tokens as written). For inspection; use <see cref="Encode(string)"/> for ids.
    /// </summary>
    /// <exception cref="InvalidInputException">The text holds an unpaired surrogate.</exception>
    public IReadOnlyList<string> EncodeToTokens(string text)
    {
        var ids = Encode(text);
        var tokens = new string[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            tokens[i] = IdToToken(ids[i])!;
        }

        return tokens;
    }

    /// <summary>
    /// Turns ids back into text, as Hugging Face's <c>decode</c> does: byte-level tokens become their bytes, added tokens
    /// their text, and the bytes are read as UTF-8 with U+FFFD for invalid sequences (a token cut inside a character).
    /// Ids that have no token (the embedding's padding rows) are skipped, as the reference skips them.
    /// </summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Whether special tokens (<c>&lt;|image_pad|&gt;</c>, <c>&lt;|endoftext|&gt;</c>) are left out.</param>
    /// <exception cref="InvalidInputException">An id is negative.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var table = _decodeTable.Value;
        var length = 0;
        foreach (var id in ids)
        {
            if (id < 0)
            {
                throw new InvalidInputException($"Token id {id} is negative; ids run from 0 to {MaxTokenId}.");
            }

            if (id <= MaxTokenId && !(skipSpecialTokens && table.SkipAsSpecial[id]))
            {
                length += table.Offsets[id + 1] - table.Offsets[id];
            }
        }

        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var written = 0;
            foreach (var id in ids)
            {
                if (id <= MaxTokenId && !(skipSpecialTokens && table.SkipAsSpecial[id]))
                {
                    var start = table.Offsets[id];
                    var count = table.Offsets[id + 1] - start;
                    table.Bytes.AsSpan(start, count).CopyTo(rented.AsSpan(written));
                    written += count;
                }
            }

            return Encoding.UTF8.GetString(rented, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The id of a token string: an added token's text, or a vocabulary entry in byte-level form (<c>Ġcat</c>).</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out var id))
        {
            return id;
        }

        return _model.TryGetId(token, out id) ? id : null;
    }

    /// <summary>The token string of an id (added tokens first, then the vocabulary), or null when no token has it.</summary>
    public string? IdToToken(int id)
    {
        if (_addedById.TryGetValue(id, out var added))
        {
            return added.Content;
        }

        return id >= 0 && id < _vocabById.Length ? _vocabById[id] : null;
    }

    /// <summary>Whether <paramref name="id"/> is a special added token (such as <c>&lt;|image_pad|&gt;</c>).</summary>
    public bool IsSpecialToken(int id) => _addedById.TryGetValue(id, out var token) && token.Special;

    /// <summary>Empties the merge cache (benchmarks compare cold and warm runs).</summary>
    internal void ClearMergeCache() => _model.ClearCache();

    private void EncodeCore<TSink>(ReadOnlySpan<char> text, bool parseSpecialTokens, ref TSink sink)
        where TSink : ITokenSink, allows ref struct
    {
        var bad = IndexOfUnpairedSurrogate(text);
        if (bad >= 0)
        {
            throw new InvalidInputException(
                $"The text has an unpaired UTF-16 surrogate (U+{(int)text[bad]:X4}) at index {bad}; text to tokenize must be valid Unicode.");
        }

        // 1. Added tokens matched in the raw text (normalized = false: every Qwen special token).
        if (_rawMatcher.IsEmpty)
        {
            EncodeSegment(text, parseSpecialTokens, ref sink);
            return;
        }

        var searchFrom = 0;
        var previousEnd = 0;
        while (_rawMatcher.FindNext(text, ref searchFrom, previousEnd, !parseSpecialTokens, out var start, out var end, out var token))
        {
            if (start > previousEnd)
            {
                EncodeSegment(text[previousEnd..start], parseSpecialTokens, ref sink);
            }

            sink.Add(token!.Id);
            previousEnd = end;
        }

        if (previousEnd < text.Length)
        {
            EncodeSegment(text[previousEnd..], parseSpecialTokens, ref sink);
        }
    }

    // 2. Normalize the text between raw added tokens, then match the normalized added tokens in it.
    private void EncodeSegment<TSink>(ReadOnlySpan<char> segment, bool parseSpecialTokens, ref TSink sink)
        where TSink : ITokenSink, allows ref struct
    {
        var text = _normalizer.TryNormalize(segment, out var normalized) ? normalized.AsSpan() : segment;
        if (_normalizedMatcher.IsEmpty)
        {
            RunStages(text, 0, ref sink);
            return;
        }

        var searchFrom = 0;
        var previousEnd = 0;
        while (_normalizedMatcher.FindNext(text, ref searchFrom, previousEnd, !parseSpecialTokens, out var start, out var end, out var token))
        {
            if (start > previousEnd)
            {
                RunStages(text[previousEnd..start], 0, ref sink);
            }

            sink.Add(token!.Id);
            previousEnd = end;
        }

        if (previousEnd < text.Length)
        {
            RunStages(text[previousEnd..], 0, ref sink);
        }
    }

    // 3. Pre-tokenize (each stage splits the pieces of the one before), then BPE each piece.
    private void RunStages<TSink>(ReadOnlySpan<char> piece, int stageIndex, ref TSink sink)
        where TSink : ITokenSink, allows ref struct
    {
        if (piece.IsEmpty)
        {
            return;
        }

        if (stageIndex == _stages.Length)
        {
            _model.Encode(piece, ref sink);
            return;
        }

        var stage = _stages[stageIndex];
        switch (stage.Kind)
        {
            case PreTokenizerStageKind.Qwen2Scanner:
                for (var position = 0; position < piece.Length;)
                {
                    var length = Qwen2PatternScanner.NextPieceLength(piece[position..], stage.MaxDigits);
                    RunStages(piece.Slice(position, length), stageIndex + 1, ref sink);
                    position += length;
                }

                break;

            case PreTokenizerStageKind.RegexSplit:
                var last = 0;
                foreach (var match in stage.Regex!.EnumerateMatches(piece))
                {
                    if (match.Length == 0)
                    {
                        continue;
                    }

                    RunStages(piece[last..match.Index], stageIndex + 1, ref sink);
                    RunStages(piece.Slice(match.Index, match.Length), stageIndex + 1, ref sink);
                    last = match.Index + match.Length;
                }

                RunStages(piece[last..], stageIndex + 1, ref sink);
                break;

            case PreTokenizerStageKind.PrefixSpace when piece[0] != ' ':
                var buffer = ArrayPool<char>.Shared.Rent(piece.Length + 1);
                try
                {
                    buffer[0] = ' ';
                    piece.CopyTo(buffer.AsSpan(1));
                    RunStages(buffer.AsSpan(0, piece.Length + 1), stageIndex + 1, ref sink);
                }
                finally
                {
                    ArrayPool<char>.Shared.Return(buffer);
                }

                break;

            default:
                RunStages(piece, stageIndex + 1, ref sink);
                break;
        }
    }

    // Mirrors Hugging Face AddedVocabulary::add_tokens: a token keeps the id its text already has (as an added token or
    // in the BPE vocabulary); otherwise it takes the next id after the vocabulary and the added tokens so far. The id a
    // file declares must agree, or the file and the reference disagree about the token and it is refused.
    private void AddToken(AddedTokenSpec token, int? declaredId, string source)
    {
        if (token.Content.Length == 0)
        {
            return;
        }

        int id;
        if (_addedByContent.TryGetValue(token.Content, out var existing))
        {
            id = existing;
        }
        else if (_model.TryGetId(token.Content, out var vocabId))
        {
            id = vocabId;
        }
        else
        {
            var vocabSize = _model.VocabularyCount;
            id = _maxAddedId < 0 ? vocabSize : (_maxAddedId >= vocabSize || vocabSize == 0 ? _maxAddedId + 1 : vocabSize);
            while (_addedById.ContainsKey(id))
            {
                id++;
            }

            // The reference would hand out this id even when a vocabulary entry has it (ids with gaps), leaving two tokens
            // on one id; such a file is refused rather than decoded ambiguously.
            if (id < _vocabById.Length && _vocabById[id] is { } taken)
            {
                throw new ModelFormatException(
                    $"Tokenizer file '{source}': added token '{token.Content}' is not in the BPE vocabulary, so Hugging Face " +
                    $"tokenizers gives it the next free id after the {_model.VocabularyCount} vocabulary entries, {id}; but the " +
                    $"vocabulary already gives id {id} to '{taken}' (its ids have gaps). Put the token in the vocabulary, or make the vocabulary ids contiguous.");
            }
        }

        if (declaredId is { } declared && declared != id)
        {
            throw new ModelFormatException(
                $"Tokenizer file '{source}': added token '{token.Content}' is declared with id {declared}, but Hugging Face " +
                $"tokenizers gives it id {id} (an added token takes its vocabulary id when its text is in the BPE vocabulary, " +
                $"otherwise the next id after the {_model.VocabularyCount} vocabulary entries and the added tokens before it).");
        }

        _addedByContent[token.Content] = id;
        _addedById[id] = token with { Id = id };
        _maxAddedId = Math.Max(_maxAddedId, id);
        if (token.Special)
        {
            _specialContents.Add(token.Content);
        }
    }

    private DecodeTable BuildDecodeTable()
    {
        var count = MaxTokenId + 1;
        var offsets = new int[count + 1];
        var skip = new bool[count];
        var tokens = new byte[count][];
        var total = 0;
        for (var id = 0; id < count; id++)
        {
            // As the reference's simple_id_to_token: an added token decodes from its (normalized) text, other ids from the
            // vocabulary; "special" is decided on that text.
            string? text;
            if (_addedById.TryGetValue(id, out var added))
            {
                text = added.Normalized ? _normalizer.Normalize(added.Content) : added.Content;
            }
            else
            {
                text = id < _vocabById.Length ? _vocabById[id] : null;
            }

            tokens[id] = text is null ? [] : ByteLevelAlphabet.TokenToBytes(text);
            skip[id] = text is not null && _specialContents.Contains(text);
            offsets[id] = total;
            total += tokens[id].Length;
        }

        offsets[count] = total;
        var bytes = new byte[total];
        for (var id = 0; id < count; id++)
        {
            tokens[id].CopyTo(bytes, offsets[id]);
        }

        return new DecodeTable(bytes, offsets, skip);
    }

    /// <summary>The index of the first unpaired surrogate in <paramref name="text"/> (text that has no UTF-8 form), or -1.</summary>
    private static int IndexOfUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < text.Length)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var next = text[(i + 2)..].IndexOfAnyInRange('\uD800', '\uDFFF');
                i = next < 0 ? -1 : i + 2 + next;
                continue;
            }

            return i;
        }

        return -1;
    }

    private static ReadOnlyMemory<byte> RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"Tokenizer file '{path}' does not exist.");
        }

        return TokenizerJsonReader.ReadAllBytes(path);
    }

    private sealed record DecodeTable(byte[] Bytes, int[] Offsets, bool[] SkipAsSpecial);
}
