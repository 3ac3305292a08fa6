using System.Reflection;

namespace Vlm2Vec.ML;

/// <summary>
/// Finds the engine that opens a model folder without a compile-time reference to it: Vlm2Vec.ML references Core only
/// (a user who embeds through ONNX Runtime never restores libtorch, and the other way round), so the engines' factories
/// are located by their well-known type names in whatever engine assembly the application references.
/// </summary>
internal static class EncoderFactoryResolver
{
    /// <summary>The ONNX Runtime engine: model bundles with a <c>vlm2vec.json</c> manifest.</summary>
    public const string OnnxRuntimeFactoryType = "Vlm2Vec.OnnxRuntime.OnnxRuntimeEncoderFactory, Vlm2Vec.OnnxRuntime";

    /// <summary>The TorchSharp engine: Hugging Face checkpoint folders (<c>config.json</c> + safetensors).</summary>
    public const string TorchSharpFactoryType = "Vlm2Vec.TorchSharp.TorchSharpEncoderFactory, Vlm2Vec.TorchSharp";

    /// <summary>The factory type name recorded for <paramref name="modelPath"/>.</summary>
    /// <exception cref="ArgumentException">The folder does not exist or holds no model this library knows.</exception>
    public static string ForFolder(string modelPath)
    {
        if (!Directory.Exists(modelPath))
        {
            throw new ArgumentException($"The Vlm2Vec model folder '{modelPath}' does not exist.", nameof(modelPath));
        }

        if (File.Exists(Path.Combine(modelPath, "vlm2vec.json")))
        {
            return OnnxRuntimeFactoryType;
        }

        if (File.Exists(Path.Combine(modelPath, "config.json")))
        {
            return TorchSharpFactoryType;
        }

        throw new ArgumentException(
            $"'{modelPath}' holds neither a model bundle (vlm2vec.json) nor a Hugging Face checkpoint (config.json): give a model folder, " +
            "or set Vlm2VecEmbeddingOptions.EncoderFactory to the engine that reads it.",
            nameof(modelPath));
    }

    /// <summary>The recorded name of a factory object's type (its assembly-qualified name without version details).</summary>
    public static string NameOf(IVlm2VecEncoderFactory factory)
    {
        var type = factory.GetType();
        return $"{type.FullName}, {type.Assembly.GetName().Name}";
    }

    /// <summary>Whether a factory of this type can be created again from its recorded name.</summary>
    public static bool CanRecreate(IVlm2VecEncoderFactory factory)
    {
        var type = factory.GetType();
        return type.IsPublic && !type.IsAbstract && DefaultConstructor(type) is not null;
    }

    /// <summary>A public constructor callable without arguments: parameterless, or with only optional parameters.</summary>
    private static ConstructorInfo? DefaultConstructor(Type type) =>
        type.GetConstructor(Type.EmptyTypes)
        ?? type.GetConstructors().FirstOrDefault(c => c.GetParameters().All(p => p.IsOptional));

    /// <summary>Creates the factory recorded as <paramref name="typeName"/>.</summary>
    /// <exception cref="InvalidOperationException">The engine's assembly is not referenced, or the type cannot be created.</exception>
    public static IVlm2VecEncoderFactory Create(string typeName)
    {
        Type? type;
        try
        {
            type = Type.GetType(typeName, throwOnError: false);
        }
        catch (Exception ex) when (ex is FileLoadException or BadImageFormatException)
        {
            throw new InvalidOperationException($"The Vlm2Vec engine '{typeName}' could not be loaded: {ex.Message}", ex);
        }

        if (type is null)
        {
            var package = typeName.Split(',')[^1].Trim();
            throw new InvalidOperationException(
                $"The Vlm2Vec engine '{typeName}' that opens this model was not found. Reference the {package} package in the application " +
                "(Vlm2Vec.OnnxRuntime reads model bundles with a vlm2vec.json manifest; Vlm2Vec.TorchSharp reads Hugging Face checkpoint folders).");
        }

        if (!typeof(IVlm2VecEncoderFactory).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"'{typeName}' is not an IVlm2VecEncoderFactory.");
        }

        var constructor = DefaultConstructor(type)
            ?? throw new InvalidOperationException($"The Vlm2Vec engine '{typeName}' could not be created: it needs a public constructor callable without arguments.");
        try
        {
            var parameters = constructor.GetParameters();
            var arguments = new object?[parameters.Length];
            for (var i = 0; i < parameters.Length; i++)
            {
                arguments[i] = parameters[i].HasDefaultValue ? parameters[i].DefaultValue : null;
            }

            return (IVlm2VecEncoderFactory)constructor.Invoke(arguments);
        }
        catch (Exception ex) when (ex is MissingMethodException or TargetInvocationException or MemberAccessException)
        {
            throw new InvalidOperationException(
                $"The Vlm2Vec engine '{typeName}' could not be created (it needs a public parameterless constructor): {(ex.InnerException ?? ex).Message}", ex);
        }
    }
}
