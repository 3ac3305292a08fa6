using System.Text;
using Vlm2Vec.TorchSharp.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>
/// A PEFT LoRA/DoRA adapter (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c> or <c>adapter_model.bin</c>),
/// held with canonical module names whatever key layout the file used. It merges into base weights with PEFT's
/// formulas (<see cref="MergeInto"/>, or while loading through <see cref="CheckpointLoadOptions.Adapter"/>), loads into
/// unmerged <see cref="LoraLinear"/>/<see cref="DoraLinear"/> modules for training (<see cref="LoraInjector"/>), and saves
/// in PEFT's format.
/// </summary>
public sealed class PeftAdapter : IDisposable
{
    /// <summary>File name of the adapter config.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>File name of safetensors adapter weights.</summary>
    public const string SafetensorsFileName = "adapter_model.safetensors";

    /// <summary>File name of pickled adapter weights.</summary>
    public const string BinFileName = "adapter_model.bin";

    private readonly Dictionary<string, LoraTarget> _byModule;
    private readonly Dictionary<string, LoraTarget> _byWeight;
    private readonly Dictionary<string, LoraTarget> _byBias;
    private readonly Dictionary<string, Tensor> _replacements;
    private bool _disposed;

    private PeftAdapter(LoraConfig config, string? sourcePath, IEnumerable<LoraTarget> targets, Dictionary<string, Tensor> replacements)
    {
        Config = config;
        SourcePath = sourcePath;
        _byModule = targets.ToDictionary(t => t.ModulePath, StringComparer.Ordinal);
        _byWeight = _byModule.Values.ToDictionary(t => t.WeightName, StringComparer.Ordinal);
        _byBias = _byModule.Values.Where(t => t.LoraBBias is not null).ToDictionary(t => t.BiasName, StringComparer.Ordinal);
        _replacements = replacements;
        TargetModules = [.. _byModule.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The adapter's config.</summary>
    public LoraConfig Config { get; }

    /// <summary>The folder it was loaded from, or null when built in memory.</summary>
    public string? SourcePath { get; }

    /// <summary>Canonical paths of the modules it adapts (e.g. <c>model.layers.0.self_attn.q_proj</c>), sorted.</summary>
    public IReadOnlyList<string> TargetModules { get; }

    /// <summary>Canonical names of whole tensors it replaces (<c>modules_to_save</c>, or biases trained with <c>bias</c> ≠ none).</summary>
    public IReadOnlyCollection<string> ReplacedTensors => _replacements.Keys;

    /// <summary>Loads an adapter folder (safetensors weights preferred over <c>.bin</c>).</summary>
    /// <exception cref="ModelFormatException">Missing files, an unsupported config, or tensors that do not fit together.</exception>
    public static PeftAdapter Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Adapter folder '{folder}' does not exist.");
        }

        var root = Path.GetFullPath(folder);
        var config = LoraConfig.Load(Path.Combine(root, ConfigFileName));
        var safetensors = Path.Combine(root, SafetensorsFileName);
        var bin = Path.Combine(root, BinFileName);
        Dictionary<string, Tensor> tensors;
        if (File.Exists(safetensors))
        {
            using var file = SafetensorsFile.Open(safetensors);
            tensors = file.ReadAll();
        }
        else if (File.Exists(bin))
        {
            tensors = PyTorchBinReader.Read(bin);
        }
        else
        {
            throw new ModelFormatException($"Adapter folder '{root}' has {ConfigFileName} but no {SafetensorsFileName} or {BinFileName}.");
        }

        return Build(config, tensors, root, takeOwnership: true);
    }

    /// <summary>
    /// Builds an adapter from a PEFT state dict in any supported key layout. The tensors are copied; the caller keeps
    /// ownership of <paramref name="peftStateDict"/>.
    /// </summary>
    /// <exception cref="ModelFormatException">Keys or shapes that do not form a valid adapter for <paramref name="config"/>.</exception>
    public static PeftAdapter FromStateDict(LoraConfig config, IReadOnlyDictionary<string, Tensor> peftStateDict)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(peftStateDict);
        var copies = new Dictionary<string, Tensor>(peftStateDict.Count, StringComparer.Ordinal);
        foreach (var (key, tensor) in peftStateDict)
        {
            copies[key] = tensor.detach().cpu().clone();
        }

        return Build(config, copies, null, takeOwnership: true);
    }

    /// <summary>
    /// Checks that every adapted weight exists in the base model with fitting shapes (A is r × in, B is out × r, the
    /// magnitude has out entries) and that replaced tensors have the base shapes.
    /// </summary>
    /// <param name="baseShapes">Canonical base-weight names and shapes (e.g. <see cref="StateDictValidator.ExpectedShapes"/>).</param>
    /// <exception cref="ModelFormatException">One exception naming every tensor that does not fit ("adapter for another base").</exception>
    public void ValidateAgainst(IReadOnlyDictionary<string, long[]> baseShapes) => ValidateAgainst(baseShapes, null, null);

    /// <summary>
    /// Merges the adapter into a state dict with canonical names, in place: each adapted weight (and replaced tensor) is
    /// swapped for a new tensor of the same type and the old one is disposed.
    /// </summary>
    /// <exception cref="ModelFormatException">The adapter does not fit the state dict (nothing is changed then).</exception>
    public void MergeInto(IDictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var shapes = stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        ValidateAgainst(shapes, null, null);
        foreach (var name in stateDict.Keys.ToList())
        {
            var tensor = stateDict[name];
            if (TryMerge(name, tensor, tensor.dtype, out var merged))
            {
                stateDict[name] = merged;
                tensor.Dispose();
            }
        }
    }

    /// <summary>
    /// Saves the adapter as PEFT does: <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> with keys
    /// <c>base_model.model.{module}.lora_A.weight</c>, <c>….lora_B.weight</c> and <c>….lora_magnitude_vector</c>, in the
    /// chosen name layout (classic <c>model.layers.…</c> by default, which every PEFT and transformers version maps).
    /// </summary>
    public void Save(string folder, WeightNameLayout layout = WeightNameLayout.Classic)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Directory.CreateDirectory(folder);
        var tensors = ToPeftStateDict(layout);
        SafetensorsFile.Write(Path.Combine(folder, SafetensorsFileName), tensors);
        CheckpointWriter.WriteTextAtomically(Path.Combine(folder, ConfigFileName), Config.ToJson());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var target in _byModule.Values)
        {
            target.Dispose();
        }

        foreach (var tensor in _replacements.Values)
        {
            tensor.Dispose();
        }
    }

    /// <summary>The adapter tensors of one module, or null.</summary>
    internal LoraTarget? GetTarget(string modulePath) => _byModule.GetValueOrDefault(modulePath);

    /// <summary>The tensors keyed as PEFT saves them (not copies: the adapter keeps ownership).</summary>
    internal Dictionary<string, Tensor> ToPeftStateDict(WeightNameLayout layout)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var target in _byModule.Values)
        {
            result[PeftKeyNames.Format(target.ModulePath, LoraTensorKind.A, layout)] = target.LoraA;
            result[PeftKeyNames.Format(target.ModulePath, LoraTensorKind.B, layout)] = target.LoraB;
            if (target.LoraBBias is not null)
            {
                result[PeftKeyNames.Format(target.ModulePath, LoraTensorKind.BBias, layout)] = target.LoraBBias;
            }

            if (target.Magnitude is not null)
            {
                result[PeftKeyNames.Format(target.ModulePath, LoraTensorKind.Magnitude, layout)] = target.Magnitude;
            }
        }

        foreach (var (name, tensor) in _replacements)
        {
            result[PeftKeyNames.FormatReplacement(name, layout)] = tensor;
        }

        return result;
    }

    /// <summary>
    /// When the adapter changes the base tensor <paramref name="name"/>, returns the merged (or replacing) tensor with
    /// type <paramref name="resultType"/> on the base tensor's device; the base tensor is left untouched.
    /// </summary>
    internal bool TryMerge(string name, Tensor baseTensor, ScalarType resultType, out Tensor merged)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_replacements.TryGetValue(name, out var replacement))
        {
            RequireShape(name, replacement.shape, baseTensor.shape, "replacement tensor");
            merged = replacement.to(resultType, baseTensor.device, copy: true);
            return true;
        }

        if (_byWeight.TryGetValue(name, out var target))
        {
            RequireFits(target, baseTensor.shape);
            merged = LoraMath.MergedWeight(baseTensor, target.LoraA, target.LoraB, target.Magnitude, target.Scaling, resultType);
            return true;
        }

        if (_byBias.TryGetValue(name, out var biased))
        {
            RequireShape(name, biased.LoraBBias!.shape, baseTensor.shape, "lora_B.bias");
            merged = LoraMath.MergedBias(baseTensor, biased.LoraBBias, biased.Scaling, resultType);
            return true;
        }

        merged = null!;
        return false;
    }

    /// <summary>Throws when some adapted or replaced tensor (among those <paramref name="include"/> accepts) was never met.</summary>
    internal void ThrowIfTargetsMissing(IReadOnlySet<string> seen, Func<string, bool>? include, string baseSource)
    {
        var missing = _byWeight.Keys.Concat(_byBias.Keys).Concat(_replacements.Keys)
            .Where(n => !seen.Contains(n) && (include is null || include(n)))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (missing.Count > 0)
        {
            throw new ModelFormatException(AnotherBase(baseSource, missing.Select(n => $"{n}: not in the base model")));
        }
    }

    /// <summary>Validation with a name filter and a base-model description for the message.</summary>
    internal void ValidateAgainst(IReadOnlyDictionary<string, long[]> baseShapes, Func<string, bool>? include, string? baseSource)
    {
        ArgumentNullException.ThrowIfNull(baseShapes);
        var problems = new List<string>();
        foreach (var target in _byModule.Values.OrderBy(t => t.ModulePath, StringComparer.Ordinal))
        {
            if (include is not null && !include(target.WeightName))
            {
                continue;
            }

            if (!baseShapes.TryGetValue(target.WeightName, out var shape))
            {
                problems.Add($"{target.ModulePath}: the base model has no {target.WeightName}");
                continue;
            }

            problems.AddRange(Misfits(target, shape));
            if (target.LoraBBias is not null && !baseShapes.ContainsKey(target.BiasName))
            {
                problems.Add($"{target.ModulePath}: lora_B.bias needs a base bias {target.BiasName}, which the base model lacks");
            }
        }

        foreach (var (name, tensor) in _replacements.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (include is not null && !include(name))
            {
                continue;
            }

            if (!baseShapes.TryGetValue(name, out var shape))
            {
                problems.Add($"{name}: replaced by the adapter but not in the base model");
            }
            else if (!shape.AsSpan().SequenceEqual(tensor.shape))
            {
                problems.Add($"{name}: the adapter's tensor is {StateDictValidator.FormatShape(tensor.shape)}, the base tensor {StateDictValidator.FormatShape(shape)}");
            }
        }

        if (problems.Count > 0)
        {
            throw new ModelFormatException(AnotherBase(baseSource, problems));
        }
    }

    private void RequireFits(LoraTarget target, long[] weightShape)
    {
        var problems = Misfits(target, weightShape).ToList();
        if (problems.Count > 0)
        {
            throw new ModelFormatException(AnotherBase(null, problems));
        }
    }

    private void RequireShape(string name, long[] actual, long[] expected, string what)
    {
        if (!actual.AsSpan().SequenceEqual(expected))
        {
            throw new ModelFormatException(AnotherBase(null, [$"{name}: the adapter's {what} is {StateDictValidator.FormatShape(actual)}, the base tensor {StateDictValidator.FormatShape(expected)}"]));
        }
    }

    private static IEnumerable<string> Misfits(LoraTarget target, long[] weightShape)
    {
        if (weightShape.Length != 2)
        {
            yield return $"{target.ModulePath}: the base weight is {StateDictValidator.FormatShape(weightShape)}, not a Linear weight (out × in)";
            yield break;
        }

        var (outFeatures, inFeatures) = (weightShape[0], weightShape[1]);
        if (target.InFeatures != inFeatures)
        {
            yield return $"{target.ModulePath}: lora_A is {StateDictValidator.FormatShape(target.LoraA.shape)} (in = {target.InFeatures}) but the base weight is {StateDictValidator.FormatShape(weightShape)} (in = {inFeatures})";
        }

        if (target.OutFeatures != outFeatures)
        {
            yield return $"{target.ModulePath}: lora_B is {StateDictValidator.FormatShape(target.LoraB.shape)} (out = {target.OutFeatures}) but the base weight is {StateDictValidator.FormatShape(weightShape)} (out = {outFeatures})";
        }

        if (target.Magnitude is not null && target.Magnitude.shape.Length == 1 && target.Magnitude.shape[0] != outFeatures)
        {
            yield return $"{target.ModulePath}: lora_magnitude_vector has {target.Magnitude.shape[0]} entries but the base weight has {outFeatures} output rows";
        }
    }

    private string AnotherBase(string? baseSource, IEnumerable<string> problems)
    {
        var text = new StringBuilder();
        text.Append("The adapter").Append(SourcePath is null ? string.Empty : $" '{SourcePath}'")
            .Append(" does not fit the base model").Append(baseSource is null ? string.Empty : $" '{baseSource}'")
            .Append(" (an adapter for another base model?");
        if (Config.BaseModelNameOrPath is not null)
        {
            text.Append(" Its adapter_config.json names base_model_name_or_path '").Append(Config.BaseModelNameOrPath).Append('\'');
        }

        text.Append("):");
        foreach (var problem in problems)
        {
            text.Append("\n  ").Append(problem);
        }

        return text.ToString();
    }

    private static PeftAdapter Build(LoraConfig config, Dictionary<string, Tensor> tensors, string? source, bool takeOwnership)
    {
        var where = source is null ? "The adapter" : $"Adapter '{source}'";
        var parts = new Dictionary<string, Dictionary<LoraTensorKind, (string Key, Tensor Tensor)>>(StringComparer.Ordinal);
        var replacements = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var adapterNames = new HashSet<string>(StringComparer.Ordinal);
        var built = new List<LoraTarget>();
        try
        {
            foreach (var (key, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (PeftKeyNames.TryParseLora(key, out var parsed))
                {
                    if (parsed.AdapterName is not null)
                    {
                        adapterNames.Add(parsed.AdapterName);
                    }

                    if (!parts.TryGetValue(parsed.ModulePath, out var kinds))
                    {
                        parts[parsed.ModulePath] = kinds = [];
                    }

                    if (!kinds.TryAdd(parsed.Kind, (key, tensor)))
                    {
                        throw new ModelFormatException($"{where} has two tensors for the same {parsed.Kind} of {parsed.ModulePath}: '{kinds[parsed.Kind].Key}' and '{key}'.");
                    }
                }
            }

            if (adapterNames.Count > 1)
            {
                throw new ModelFormatException($"{where} holds several adapters ({string.Join(", ", adapterNames.Order(StringComparer.Ordinal))}); save one adapter per folder.");
            }

            var adapterName = adapterNames.SingleOrDefault();
            foreach (var (key, tensor) in tensors)
            {
                if (!PeftKeyNames.TryParseLora(key, out _))
                {
                    var name = PeftKeyNames.ReplacementTarget(key, adapterName);
                    if (!replacements.TryAdd(name, tensor))
                    {
                        throw new ModelFormatException($"{where} has two tensors replacing {name}.");
                    }
                }
            }

            var problems = new List<string>();
            foreach (var (module, kinds) in parts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!kinds.TryGetValue(LoraTensorKind.A, out var a) || !kinds.TryGetValue(LoraTensorKind.B, out var b))
                {
                    problems.Add($"{module}: needs both lora_A.weight and lora_B.weight");
                    continue;
                }

                var rank = config.RankFor(module);
                if (a.Tensor.shape.Length != 2 || b.Tensor.shape.Length != 2 || a.Tensor.shape[0] != b.Tensor.shape[1])
                {
                    problems.Add($"{module}: lora_A {StateDictValidator.FormatShape(a.Tensor.shape)} and lora_B {StateDictValidator.FormatShape(b.Tensor.shape)} are not r × in and out × r of one rank");
                    continue;
                }

                if (a.Tensor.shape[0] != rank)
                {
                    problems.Add($"{module}: rank {a.Tensor.shape[0]} in the weights, {rank} in the config");
                }

                var magnitude = kinds.TryGetValue(LoraTensorKind.Magnitude, out var m) ? m.Tensor : null;
                if (config.UseDora && magnitude is null)
                {
                    problems.Add($"{module}: the config says use_dora but there is no lora_magnitude_vector");
                }
                else if (!config.UseDora && magnitude is not null)
                {
                    problems.Add($"{module}: has a lora_magnitude_vector but the config does not say use_dora");
                }
                else if (magnitude is not null && (magnitude.shape.Length != 1 || magnitude.shape[0] != b.Tensor.shape[0]))
                {
                    problems.Add($"{module}: lora_magnitude_vector {StateDictValidator.FormatShape(magnitude.shape)} does not match lora_B's {b.Tensor.shape[0]} output rows");
                }

                var bias = kinds.TryGetValue(LoraTensorKind.BBias, out var bb) ? bb.Tensor : null;
                if (bias is not null && config.UseDora)
                {
                    problems.Add($"{module}: lora_B.bias together with DoRA is not supported");
                }

                built.Add(new LoraTarget(module, a.Tensor, b.Tensor, magnitude, bias, config.ScalingFor(module)));
            }

            if (problems.Count > 0)
            {
                throw new ModelFormatException($"{where} is inconsistent with its config:\n  " + string.Join("\n  ", problems));
            }

            if (built.Count == 0)
            {
                throw new ModelFormatException($"{where} has no lora_A/lora_B tensors.");
            }

            return new PeftAdapter(config, source, built, replacements);
        }
        catch
        {
            if (takeOwnership)
            {
                foreach (var tensor in tensors.Values)
                {
                    tensor.Dispose();
                }
            }

            throw;
        }
    }
}
