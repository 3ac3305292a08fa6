using Vlm2Vec.TorchSharp.Checkpoints;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>The parts of a PEFT LoRA state-dict key, in any of the layouts PEFT versions have written.</summary>
internal enum LoraTensorKind
{
    /// <summary><c>lora_A.weight</c> (r × in).</summary>
    A,

    /// <summary><c>lora_B.weight</c> (out × r).</summary>
    B,

    /// <summary><c>lora_B.bias</c> (out), with <c>lora_bias</c>.</summary>
    BBias,

    /// <summary><c>lora_magnitude_vector</c> (out), with DoRA.</summary>
    Magnitude,
}

/// <summary>
/// Parses and writes PEFT adapter keys. Accepted on read: with or without the <c>base_model.model.</c> prefix, the classic
/// (<c>model.layers.…</c>) or nested (<c>model.language_model.layers.…</c>) layout, with or without an adapter name
/// (<c>lora_A.default.weight</c>), and the DoRA magnitude with or without <c>.weight</c>. Written: PEFT's own save format,
/// <c>base_model.model.{module}.lora_A.weight</c>, <c>….lora_B.weight</c>, <c>….lora_magnitude_vector</c>.
/// </summary>
internal static class PeftKeyNames
{
    private const string ModulesToSaveInfix = ".modules_to_save.";

    /// <summary>A parsed LoRA key: canonical module path, tensor kind, and the adapter name when the key had one.</summary>
    public readonly record struct LoraKey(string ModulePath, LoraTensorKind Kind, string? AdapterName);

    /// <summary>
    /// Parses a LoRA key; returns false for keys that are not LoRA tensors (e.g. <c>modules_to_save</c> weights or
    /// trained biases), and throws for LoRA tensors this library does not support.
    /// </summary>
    public static bool TryParseLora(string key, out LoraKey parsed)
    {
        parsed = default;
        var parts = key.Split('.');
        var at = -1;
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].StartsWith("lora_", StringComparison.Ordinal))
            {
                at = i;
                break;
            }
        }

        if (at < 0)
        {
            return false;
        }

        if (at == 0)
        {
            throw new ModelFormatException($"Adapter tensor '{key}' has no module path before '{parts[0]}'.");
        }

        var module = WeightNames.ToCanonical(string.Join('.', parts, 0, at));
        var tail = parts.AsSpan(at + 1);
        switch (parts[at])
        {
            case "lora_A":
            case "lora_B":
            {
                string? adapter;
                string param;
                if (tail.Length == 1)
                {
                    (adapter, param) = (null, tail[0]);
                }
                else if (tail.Length == 2)
                {
                    (adapter, param) = (tail[0], tail[1]);
                }
                else
                {
                    throw Unsupported(key);
                }

                var kind = (parts[at], param) switch
                {
                    ("lora_A", "weight") => LoraTensorKind.A,
                    ("lora_B", "weight") => LoraTensorKind.B,
                    ("lora_B", "bias") => LoraTensorKind.BBias,
                    _ => throw Unsupported(key),
                };
                parsed = new LoraKey(module, kind, adapter);
                return true;
            }

            case "lora_magnitude_vector":
            {
                // PEFT 0.9 saved "...lora_magnitude_vector" (a ParameterDict entry); later in-memory names are
                // "...lora_magnitude_vector.<adapter>.weight", which some savers kept with ".weight".
                string? adapter = tail.Length switch
                {
                    0 => null,
                    1 when tail[0] == "weight" => null,
                    1 => tail[0],
                    2 when tail[1] == "weight" => tail[0],
                    _ => throw Unsupported(key),
                };
                parsed = new LoraKey(module, LoraTensorKind.Magnitude, adapter);
                return true;
            }

            case "lora_embedding_A":
            case "lora_embedding_B":
                throw new ModelFormatException($"Adapter tensor '{key}' is a LoRA on an embedding layer, which is not supported (only Linear layers).");
            default:
                throw Unsupported(key);
        }
    }

    /// <summary>The canonical base-model name a non-LoRA adapter tensor replaces (modules_to_save, trained biases).</summary>
    public static string ReplacementTarget(string key, string? adapterName)
    {
        var name = key;
        var infix = name.IndexOf(ModulesToSaveInfix, StringComparison.Ordinal);
        if (infix >= 0)
        {
            // "<module>.modules_to_save.<adapter>.<param>" → "<module>.<param>"
            var rest = name[(infix + ModulesToSaveInfix.Length)..];
            var dot = rest.IndexOf('.', StringComparison.Ordinal);
            name = name[..infix] + (dot >= 0 ? rest[dot..] : string.Empty);
        }
        else if (adapterName is not null && name.Contains("." + adapterName + ".", StringComparison.Ordinal))
        {
            name = name.Replace("." + adapterName + ".", ".", StringComparison.Ordinal);
        }

        return WeightNames.ToCanonical(name);
    }

    /// <summary>The PEFT save-format key of a LoRA tensor.</summary>
    public static string Format(string modulePath, LoraTensorKind kind, WeightNameLayout layout)
    {
        var prefix = WeightNames.PeftPrefix + WeightNames.ToLayout(modulePath, layout);
        return kind switch
        {
            LoraTensorKind.A => prefix + ".lora_A.weight",
            LoraTensorKind.B => prefix + ".lora_B.weight",
            LoraTensorKind.BBias => prefix + ".lora_B.bias",
            LoraTensorKind.Magnitude => prefix + ".lora_magnitude_vector",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>The PEFT save-format key of a replacement tensor.</summary>
    public static string FormatReplacement(string canonicalName, WeightNameLayout layout) =>
        WeightNames.PeftPrefix + WeightNames.ToLayout(canonicalName, layout);

    private static ModelFormatException Unsupported(string key) =>
        new($"Adapter tensor '{key}' is not a LoRA/DoRA tensor this library understands (expected lora_A.weight, lora_B.weight, lora_B.bias or lora_magnitude_vector).");
}
