using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// A trained model is a folder anyone can copy: <see cref="ConfigFile"/> (model, scheduler and data
/// settings), <see cref="ModelFile"/> and <see cref="EmaFile"/> (weights in safetensors). Every
/// write is atomic; every load is validated against the model before anything is changed.
/// </summary>
public static class ModelDirectory
{
    public const string ConfigFile = "config.json";
    public const string ModelFile = "model.safetensors";
    public const string EmaFile = "ema.safetensors";

    /// <summary>
    /// Makes <paramref name="dir"/> ready to receive a model: creates it, and refuses to go on when
    /// it already holds one (a <see cref="ConfigFile"/> or any <c>*.safetensors</c>) unless
    /// <paramref name="force"/> is set. Files already there are overwritten one by one as the new
    /// model is written, not deleted up front.
    /// </summary>
    public static void PrepareForWrite(string dir, bool force)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (File.Exists(dir))
            throw new DiffuseException($"'{dir}' is a file, not a folder; choose another --out");
        if (Directory.Exists(dir) && !force && HoldsModel(dir))
            throw new DiffuseException($"'{dir}' already holds a model; pass --force to overwrite it or choose another --out");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffuseException($"cannot create the model folder '{dir}': {e.Message}", e);
        }
    }

    /// <summary>Fails with a message that says what to do when <paramref name="dir"/> is not a model folder.</summary>
    public static void RequireModel(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
            throw new DiffuseException($"model folder '{dir}' does not exist (train one with 'diffuse train ... --out {dir}')");
        if (!File.Exists(Path.Combine(dir, ConfigFile)))
            throw new DiffuseException($"'{dir}' is not a model folder: {ConfigFile} is missing");
    }

    /// <summary>The text of the folder's <see cref="ConfigFile"/>.</summary>
    public static string ReadConfig(string dir)
    {
        RequireModel(dir);
        return File.ReadAllText(Path.Combine(dir, ConfigFile));
    }

    /// <summary>Writes the folder's <see cref="ConfigFile"/> atomically; the folder must exist (see <see cref="PrepareForWrite"/>).</summary>
    public static void WriteConfig(string dir, string json)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), json);
    }

    /// <summary>Writes <paramref name="module"/>'s state dict (parameters and buffers) to a safetensors file, atomically.</summary>
    public static void SaveWeights(string path, nn.Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        SafeTensors.Write(path, module.state_dict(), metadata);
    }

    /// <summary>
    /// Loads a safetensors file into <paramref name="module"/>. The file must hold exactly the
    /// module's state dict, with the same names, shapes and dtypes; otherwise a
    /// <see cref="DiffuseException"/> names the first problem and how many more there are, and the
    /// module is left unchanged.
    /// </summary>
    public static void LoadWeights(string path, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var file = SafeTensors.Read(path);
        var state = module.state_dict();
        var problems = Compare(file.Tensors, state);
        if (problems.Count > 0)
        {
            var more = problems.Count > 1 ? $" (and {problems.Count - 1} more)" : "";
            throw new DiffuseException($"{path} does not match the model in {ConfigFile}: {problems[0]}{more}");
        }
        using (no_grad())
        {
            foreach (var (name, target) in state)
                target.copy_(file.Tensors[name]);
        }
    }

    static List<string> Compare(IReadOnlyDictionary<string, Tensor> file, Dictionary<string, Tensor> model)
    {
        var problems = new List<string>();
        foreach (var (name, expected) in model)
        {
            if (!file.TryGetValue(name, out var actual))
            {
                problems.Add($"'{name}' is missing from the file");
                continue;
            }
            if (!actual.shape.SequenceEqual(expected.shape))
                problems.Add($"'{name}' has shape {Format(actual.shape)} in the file but {Format(expected.shape)} in the model");
            else if (actual.dtype != expected.dtype)
                problems.Add($"'{name}' has dtype {SafeTensors.DtypeName(actual.dtype)} in the file but {SafeTensors.DtypeName(expected.dtype)} in the model");
        }
        foreach (var name in file.Keys)
            if (!model.ContainsKey(name))
                problems.Add($"the file has '{name}', which the model does not");
        return problems;
    }

    static bool HoldsModel(string dir) =>
        File.Exists(Path.Combine(dir, ConfigFile)) || Directory.EnumerateFiles(dir, "*.safetensors").Any();

    static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";
}
