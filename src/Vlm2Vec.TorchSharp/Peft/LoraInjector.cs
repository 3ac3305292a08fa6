using System.Reflection;
using Vlm2Vec.TorchSharp.Checkpoints;
using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>
/// Puts unmerged LoRA/DoRA modules into a module tree for training, the way PEFT's <c>get_peft_model</c> does, and
/// takes them out again: inject (by PEFT's suffix matching on full module names), load adapter weights, freeze all but
/// the adapters, extract a saveable <see cref="PeftAdapter"/>, merge and unload.
/// </summary>
/// <remarks>
/// A targeted module must be a <see cref="Linear"/> held in a field of its parent whose name is the module name (or whose
/// <c>ComponentName</c> attribute says so) and whose declared type accepts a <c>Module&lt;Tensor, Tensor&gt;</c>; the
/// field is replaced through reflection and the parent's registration updated. Module paths are taken relative to the
/// module passed in; with a Qwen2-VL root they are the canonical weight names (<c>model.layers.0.self_attn.q_proj</c>).
/// </remarks>
public static class LoraInjector
{
    /// <summary>
    /// Wraps every Linear that <paramref name="config"/> targets in a <see cref="LoraLinear"/> (or <see cref="DoraLinear"/>
    /// with <c>use_dora</c>) with fresh adapter weights; the base layers are frozen. Returns the wrapped module paths.
    /// </summary>
    /// <exception cref="ArgumentException">The config matches no Linear, or uses options injection does not support.</exception>
    /// <exception cref="InvalidOperationException">A targeted module cannot be replaced (not held in a suitable field).</exception>
    public static IReadOnlyList<string> Inject(nn.Module model, LoraConfig config, LoraInjectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        options ??= new LoraInjectOptions();
        if (config.LayersToTransform is { Count: > 0 } || config.LayersPattern is not null)
        {
            throw new ArgumentException("layers_to_transform / layers_pattern are not supported; list the modules in target_modules instead.", nameof(config));
        }

        if (config.TargetModules is null && config.TargetModulesRegex is null)
        {
            throw new ArgumentException("The config has no target_modules.", nameof(config));
        }

        var targets = model.named_modules()
            .Where(m => m.name.Length > 0 && m.module is Linear && config.IsTargeted(m.name))
            .Select(m => (m.name, Linear: (Linear)m.module))
            .ToList();
        if (targets.Count == 0)
        {
            var wanted = config.TargetModulesRegex ?? string.Join(", ", config.TargetModules!);
            throw new ArgumentException($"Target modules {wanted} matched no Linear module of the model.", nameof(config));
        }

        var generator = LoraLinear.GeneratorFor(options);
        try
        {
            var injected = new List<string>(targets.Count);
            foreach (var (name, linear) in targets)
            {
                nn.Module<Tensor, Tensor> wrapper = config.UseDora
                    ? new DoraLinear(linear, config, name, options, generator)
                    : new LoraLinear(linear, config, name, options, generator);
                Replace(model, name, wrapper);
                injected.Add(name);
            }

            return injected;
        }
        finally
        {
            generator?.Dispose();
        }
    }

    /// <summary>
    /// Injects modules for exactly the adapter's targets and loads its weights into them (to resume training or to run
    /// the adapter unmerged). Returns the wrapped module paths.
    /// </summary>
    /// <exception cref="ModelFormatException">The adapter does not fit the model.</exception>
    public static IReadOnlyList<string> Apply(nn.Module model, PeftAdapter adapter, LoraInjectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapter);
        adapter.ValidateAgainst(StateDictValidator.ExpectedShapes(model));
        if (adapter.ReplacedTensors.Count > 0)
        {
            throw new NotSupportedException(
                $"The adapter replaces whole tensors ({string.Join(", ", adapter.ReplacedTensors.Take(5))}); unmerged application supports LoRA/DoRA tensors only. Merge it instead.");
        }

        var exact = adapter.Config with
        {
            TargetModules = adapter.TargetModules,
            TargetModulesRegex = null,
            ExcludeModules = null,
            ExcludeModulesRegex = null,
            ModulesToSave = null,
            InitLoraWeights = "true",
        };
        var injected = Inject(model, exact, options);
        LoadAdapterWeights(model, adapter);
        return injected;
    }

    /// <summary>Copies an adapter's A, B (and magnitude) into already injected modules.</summary>
    /// <exception cref="ModelFormatException">Adapter targets without an injected module, or shapes that differ.</exception>
    public static void LoadAdapterWeights(nn.Module model, PeftAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapter);
        var modules = LoraModules(model).ToDictionary(m => m.Name, m => m.Module, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var path in adapter.TargetModules)
        {
            if (!modules.ContainsKey(path))
            {
                problems.Add($"{path}: no LoRA module was injected there");
            }
        }

        var copies = new List<(Tensor Target, Tensor Source)>();
        foreach (var (path, module) in modules)
        {
            var target = adapter.GetTarget(path);
            if (target is null)
            {
                problems.Add($"{path}: injected but the adapter has no weights for it");
                continue;
            }

            void Pair(string what, Tensor? destination, Tensor? source)
            {
                if (destination is null || source is null)
                {
                    if (destination is not null || source is not null)
                    {
                        problems.Add($"{path}: {what} is present on one side only (DoRA vs LoRA)");
                    }

                    return;
                }

                if (!destination.shape.AsSpan().SequenceEqual(source.shape))
                {
                    problems.Add($"{path}: {what} is {StateDictValidator.FormatShape(source.shape)} in the adapter, {StateDictValidator.FormatShape(destination.shape)} in the module");
                    return;
                }

                copies.Add((destination, source));
            }

            Pair("lora_A", module.LoraA.weight, target.LoraA);
            Pair("lora_B", module.LoraB.weight, target.LoraB);
            Pair("lora_B.bias", module.LoraB.bias, target.LoraBBias);
            Pair("lora_magnitude_vector", module.MagnitudeVector, target.Magnitude);
        }

        if (problems.Count > 0)
        {
            throw new ModelFormatException($"The adapter{(adapter.SourcePath is null ? string.Empty : $" '{adapter.SourcePath}'")} does not fit the injected modules:\n  " + string.Join("\n  ", problems));
        }

        using (no_grad())
        {
            foreach (var (destination, source) in copies)
            {
                destination.copy_(source);
            }
        }
    }

    /// <summary>
    /// Makes only adapter parameters (<c>lora_A</c>, <c>lora_B</c>, <c>lora_magnitude_vector</c>) trainable, as PEFT does;
    /// everything else (vision tower, embeddings, base weights) is frozen. Returns the number of trainable elements.
    /// </summary>
    public static long FreezeAllButAdapters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long trainable = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            var isAdapter = IsAdapterParameter(name);
            parameter.requires_grad = isAdapter;
            if (isAdapter)
            {
                trainable += parameter.numel();
            }
        }

        return trainable;
    }

    /// <summary>
    /// Copies the injected adapters' weights into a <see cref="PeftAdapter"/> (with <paramref name="config"/>), ready to
    /// <see cref="PeftAdapter.Save"/> as a PEFT adapter folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no injected adapters.</exception>
    public static PeftAdapter ExtractAdapter(nn.Module model, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, module) in LoraModules(model))
        {
            stateDict[PeftKeyNames.Format(name, LoraTensorKind.A, WeightNameLayout.Classic)] = module.LoraA.weight!;
            stateDict[PeftKeyNames.Format(name, LoraTensorKind.B, WeightNameLayout.Classic)] = module.LoraB.weight!;
            if (module.LoraB.bias is { } bias)
            {
                stateDict[PeftKeyNames.Format(name, LoraTensorKind.BBias, WeightNameLayout.Classic)] = bias;
            }

            if (module.MagnitudeVector is { } magnitude)
            {
                stateDict[PeftKeyNames.Format(name, LoraTensorKind.Magnitude, WeightNameLayout.Classic)] = magnitude;
            }
        }

        if (stateDict.Count == 0)
        {
            throw new InvalidOperationException("The model has no injected LoRA/DoRA modules.");
        }

        return PeftAdapter.FromStateDict(config, stateDict);
    }

    /// <summary>
    /// Merges every injected adapter into its base Linear (PEFT's formulas, in float32) and puts the plain Linear back in
    /// its place, as PEFT's <c>merge_and_unload</c>. Returns the module paths that were merged.
    /// </summary>
    public static IReadOnlyList<string> MergeAndUnload(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var merged = new List<string>();
        foreach (var (name, module) in LoraModules(model).ToList())
        {
            var linear = module.MergeAndUnload();
            Replace(model, name, linear);
            merged.Add(name);

            // Not the wrapper itself: disposing a module disposes its children, and the base Linear lives on.
            module.LoraA.Dispose();
            module.LoraB.Dispose();
            module.MagnitudeVector?.Dispose();
        }

        return merged;
    }

    /// <summary>Whether a parameter name belongs to an adapter.</summary>
    internal static bool IsAdapterParameter(string name) =>
        name.Contains(".lora_A.", StringComparison.Ordinal) || name.StartsWith("lora_A.", StringComparison.Ordinal)
        || name.Contains(".lora_B.", StringComparison.Ordinal) || name.StartsWith("lora_B.", StringComparison.Ordinal)
        || name.EndsWith("lora_magnitude_vector", StringComparison.Ordinal);

    private static IEnumerable<(string Name, ILoraModule Module)> LoraModules(nn.Module model) =>
        model.named_modules().Where(m => m.module is ILoraModule).Select(m => (m.name, (ILoraModule)m.module));

    private static void Replace(nn.Module root, string path, nn.Module<Tensor, Tensor> replacement)
    {
        var dot = path.LastIndexOf('.');
        var parentPath = dot < 0 ? string.Empty : path[..dot];
        var childName = dot < 0 ? path : path[(dot + 1)..];
        var parent = parentPath.Length == 0
            ? root
            : root.named_modules().FirstOrDefault(m => m.name == parentPath).module
              ?? throw new InvalidOperationException($"Module '{parentPath}' was not found.");

        var field = FindField(parent.GetType(), childName)
            ?? throw new InvalidOperationException(
                $"'{path}' cannot be replaced: {parent.GetType().Name} holds it in no field named '{childName}' (modules inside ModuleList/Sequential containers cannot be adapted).");
        if (!field.FieldType.IsAssignableFrom(replacement.GetType()))
        {
            throw new InvalidOperationException(
                $"'{path}' cannot be replaced: field {parent.GetType().Name}.{field.Name} is declared as {field.FieldType.Name}; declare it as Module<Tensor, Tensor> so that an adapter can take its place.");
        }

        parent.register_module(childName, null!);
        field.SetValue(parent, replacement);
        parent.register_module(childName, replacement);
    }

    private static FieldInfo? FindField(Type type, string componentName)
    {
        for (var current = type; current is not null && current != typeof(nn.Module); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                var name = field.GetCustomAttribute<global::TorchSharp.Utils.ComponentNameAttribute>()?.Name ?? field.Name;
                if (name == componentName)
                {
                    return field;
                }
            }
        }

        return null;
    }
}
