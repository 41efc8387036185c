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
    /// it already holds one (weights: any <c>*.safetensors</c>) unless <paramref name="force"/> is set.
    /// A folder with a <see cref="ConfigFile"/> but no weights is a run that died before its first
    /// checkpoint, not a model: it is written over without <paramref name="force"/>, and
    /// <paramref name="log"/> says so. Files already there are overwritten one by one as the new
    /// model is written, not deleted up front.
    /// </summary>
    public static void PrepareForWrite(string dir, bool force, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (File.Exists(dir))
            throw new DiffuseException($"'{dir}' is a file, not a folder; choose another --out");
        if (Directory.Exists(dir) && !force && HoldsModel(dir))
            throw DiffuseException.NeedsForce($"'{dir}' already holds a model; pass --force to overwrite it or choose another --out");
        if (Directory.Exists(dir) && IsUnfinishedRun(dir))
            log?.Invoke($"'{dir}' holds the {ConfigFile} of a run that stopped before its first checkpoint (no weights); starting over in it");
        foreach (var aside in AsideFolders(dir))
            log?.Invoke($"'{aside}' holds the model a forced run replaced and stopped before its first checkpoint; move its files back into '{dir}' to restore it, or delete it");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffuseException($"cannot create the model folder '{dir}': {e.Message}", e);
        }
    }

    /// <summary>True when <paramref name="dir"/> holds weights (any <c>*.safetensors</c>, a run's checkpoint included): a model to keep.</summary>
    public static bool HoldsModel(string dir) =>
        Directory.Exists(dir) && (Directory.EnumerateFiles(dir, "*.safetensors").Any() || File.Exists(Path.Combine(dir, "train_state", "checkpoint.safetensors")));

    /// <summary>True when <paramref name="dir"/> holds a <see cref="ConfigFile"/> but no weights: a run that stopped before its first checkpoint.</summary>
    public static bool IsUnfinishedRun(string dir) => File.Exists(Path.Combine(dir, ConfigFile)) && !HoldsModel(dir);

    /// <summary>The name start of the hidden sub-folder that holds a model a forced run replaces, until the run's first checkpoint.</summary>
    public const string AsidePrefix = ".replaced-";

    /// <summary>What a run writes into a model folder, weights first so that config.json never goes without them.</summary>
    static readonly string[] RunEntries = [ModelFile, EmaFile, "train_state", "samples", "tensorboard", ConfigFile];

    /// <summary>
    /// Moves the model in <paramref name="dir"/> (its weights, run state, grids and event files, then config.json; other
    /// files stay) into a new hidden sub-folder <c>.replaced-*</c> and returns that folder, or null when
    /// <paramref name="dir"/> holds no model. A forced run calls it before writing its own config.json, so that a kill before
    /// the run's first checkpoint never leaves the new config beside the old weights; the old model stays restorable
    /// (<see cref="RestoreAside"/>) until <see cref="DeleteAside"/>.
    /// </summary>
    public static string? MoveModelAside(string dir)
    {
        if (!HoldsModel(dir)) return null;
        var aside = Path.Combine(dir, $"{AsidePrefix}{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..(AsidePrefix.Length + 24)]);
        Directory.CreateDirectory(aside);
        var weights = Directory.EnumerateFiles(dir, "*.safetensors").Select(Path.GetFileName).Except(RunEntries);
        foreach (var name in RunEntries.SkipLast(1).Concat(weights!).Append(ConfigFile))
            MoveEntry(Path.Combine(dir, name!), Path.Combine(aside, name!));
        return aside;
    }

    /// <summary>Puts the model <see cref="MoveModelAside"/> moved into <paramref name="aside"/> back into <paramref name="dir"/>, replacing what a run wrote since.</summary>
    public static void RestoreAside(string dir, string aside)
    {
        // config.json last again: the old weights are back before the old config is.
        var entries = Directory.EnumerateFileSystemEntries(aside).Select(Path.GetFileName).OrderBy(n => n == ConfigFile ? 1 : 0).ToArray();
        foreach (var name in entries)
        {
            var target = Path.Combine(dir, name!);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            else if (File.Exists(target)) File.Delete(target);
            MoveEntry(Path.Combine(aside, name!), target);
        }
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>Deletes a folder of <see cref="MoveModelAside"/> once the run that replaced its model has a checkpoint of its own.</summary>
    public static void DeleteAside(string aside)
    {
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
    }

    /// <summary>The <c>.replaced-*</c> folders in <paramref name="dir"/>: models of forced runs that stopped before their first checkpoint.</summary>
    public static string[] AsideFolders(string dir) =>
        Directory.Exists(dir) ? Directory.GetDirectories(dir, AsidePrefix + "*").Order(StringComparer.Ordinal).ToArray() : [];

    static void MoveEntry(string from, string to)
    {
        if (Directory.Exists(from)) Directory.Move(from, to);
        else if (File.Exists(from)) File.Move(from, to);
    }

    /// <summary>Fails with a message that says what to do when <paramref name="dir"/> is not a model folder.</summary>
    public static void RequireModel(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (File.Exists(dir))
            throw new DiffuseException($"'{dir}' is a file, not a model folder");
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
    /// module's state dict, with the same names, shapes and dtypes, which is checked on the file's
    /// header before its data is read; otherwise a <see cref="DiffuseException"/> names the file,
    /// the first problem and how many more there are, and the module is left unchanged.
    /// </summary>
    public static void LoadWeights(string path, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var header = SafeTensors.ReadHeader(path);
        var state = module.state_dict();
        var problems = Compare(header, state);
        if (problems.Count > 0)
        {
            var more = problems.Count > 1 ? $" (and {problems.Count - 1} more)" : "";
            throw new DiffuseException($"{path} does not match the model in {ConfigFile}: {problems[0]}{more}");
        }
        using var file = SafeTensors.Read(path);
        using (no_grad())
        {
            foreach (var (name, target) in state)
                target.copy_(file.Tensors[name]);
        }
    }

    static List<string> Compare(IReadOnlyList<TensorHeader> header, Dictionary<string, Tensor> model)
    {
        var problems = new List<string>();
        var file = header.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (name, expected) in model)
        {
            if (!file.TryGetValue(name, out var actual))
            {
                problems.Add($"'{name}' is missing from the file");
                continue;
            }
            if (!actual.Shape.SequenceEqual(expected.shape))
                problems.Add($"'{name}' has shape {Format(actual.Shape)} in the file but {Format(expected.shape)} in the model");
            else if (actual.Dtype != expected.dtype)
                problems.Add($"'{name}' has dtype {SafeTensors.DtypeName(actual.Dtype)} in the file but {SafeTensors.DtypeName(expected.dtype)} in the model");
        }
        foreach (var name in file.Keys)
            if (!model.ContainsKey(name))
                problems.Add($"the file has '{name}', which the model does not");
        return problems;
    }

    static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";
}
