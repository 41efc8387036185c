using System.Security.Cryptography;
using System.Text.Json;
using Diffuse.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// Keeps trained <see cref="FeatureClassifier"/>s in a folder, one pair of files per dataset key:
/// <c>KEY.classifier.safetensors</c> (weights, written first) and <c>KEY.classifier.json</c> (a
/// <see cref="ClassifierCacheEntry"/>, written last, so it marks a complete entry). Both are written
/// atomically. An entry whose key, spec or data fingerprint differs is retrained; an unreadable one
/// is retrained with a warning.
/// </summary>
internal static class ClassifierCache
{
    /// <summary>
    /// Returns the cached classifier for <paramref name="datasetKey"/> when its entry matches
    /// <paramref name="spec"/> and the data, and otherwise trains one (see <see cref="ClassifierTraining.Train"/>)
    /// and stores it. <paramref name="data"/> is called once either way, to fingerprint the data; its
    /// tensors stay the caller's. <paramref name="warn"/> hears why a cache entry was not used.
    /// </summary>
    public static CachedClassifier LoadOrTrain(string datasetKey, string cacheDir,
        Func<(Tensor TrainImages, Tensor TrainLabels, Tensor ValImages, Tensor ValLabels)> data, ClassifierSpec spec,
        IProgress<ClassifierProgress>? progress = null, Action<string>? warn = null, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDir);
        ArgumentNullException.ThrowIfNull(data);
        if (string.IsNullOrEmpty(datasetKey) || datasetKey.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || datasetKey.StartsWith('.'))
            throw new DiffuseException($"a classifier cache key must be letters, digits, '-', '_' or '.', got '{datasetKey}'");
        spec.Validate();
        var (trainImages, trainLabels, valImages, valLabels) = data();
        string fingerprint = Fingerprint(trainImages, trainLabels, valImages, valLabels);
        string weightsPath = WeightsPath(cacheDir, datasetKey), entryPath = EntryPath(cacheDir, datasetKey);

        var cached = TryLoad(weightsPath, entryPath, datasetKey, fingerprint, spec, warn);
        if (cached is not null) return cached;

        var trained = ClassifierTraining.Train(trainImages, trainLabels, valImages, valLabels, spec, progress, cancel);
        try
        {
            Directory.CreateDirectory(cacheDir);
            ModelDirectory.SaveWeights(weightsPath, trained.Classifier, new Dictionary<string, string> { ["dataset_key"] = datasetKey });
            var entry = new ClassifierCacheEntry { DatasetKey = datasetKey, DataFingerprint = fingerprint, Spec = spec, ValidationAccuracy = trained.ValidationAccuracy };
            AtomicFile.WriteAllText(entryPath, JsonSerializer.Serialize(entry, Json.Options));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn?.Invoke($"could not store the classifier in '{cacheDir}' ({e.Message}); it will be trained again next time");
        }
        return new CachedClassifier(trained.Classifier, trained.ValidationAccuracy, FromCache: false);
    }

    public static string WeightsPath(string cacheDir, string datasetKey) => Path.Combine(cacheDir, $"{datasetKey}.classifier.safetensors");

    public static string EntryPath(string cacheDir, string datasetKey) => Path.Combine(cacheDir, $"{datasetKey}.classifier.json");

    /// <summary>
    /// The counts and a SHA-256 over the shapes, dtypes and bytes of the tensors: any change to an image
    /// or label changes it. Hashing 70,000 28x28 images takes well under a second.
    /// </summary>
    public static string Fingerprint(params Tensor[] tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in tensors)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{t.dtype}[{string.Join(",", t.shape)}];"));
            long rows = t.dim() == 0 ? 1 : t.shape[0];
            for (long start = 0; start < rows; start += 4096)
            {
                using var scope = NewDisposeScope();
                var chunk = (t.dim() == 0 ? t.reshape(1) : t.narrow(0, start, Math.Min(4096, rows - start))).cpu().contiguous();
                hash.AppendData(chunk.bytes);
            }
        }
        var counts = string.Join("/", tensors.Select(t => t.dim() == 0 ? 1 : t.shape[0]));
        return $"n={counts} sha256={Convert.ToHexStringLower(hash.GetHashAndReset())}";
    }

    static CachedClassifier? TryLoad(string weightsPath, string entryPath, string datasetKey, string fingerprint, ClassifierSpec spec, Action<string>? warn)
    {
        if (!File.Exists(entryPath)) return null;
        ClassifierCacheEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize<ClassifierCacheEntry>(File.ReadAllText(entryPath), Json.Options);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            warn?.Invoke($"the cached classifier entry '{entryPath}' is unreadable ({e.Message}); training a new classifier");
            return null;
        }
        if (entry is null || entry.Format != ClassifierCacheEntry.CurrentFormat || entry.DatasetKey != datasetKey)
        {
            warn?.Invoke($"the cached classifier entry '{entryPath}' is of another format or dataset; training a new classifier");
            return null;
        }
        if (entry.DataFingerprint != fingerprint)
        {
            warn?.Invoke($"the data of '{datasetKey}' changed since its classifier was cached; training a new classifier");
            return null;
        }
        if (entry.Spec != spec)
        {
            warn?.Invoke($"the cached classifier of '{datasetKey}' was trained with other settings; training a new classifier");
            return null;
        }
        using var generator = new Generator((ulong)spec.Seed);
        var classifier = new FeatureClassifier(spec.Model, generator);
        try
        {
            ModelDirectory.LoadWeights(weightsPath, classifier);
        }
        catch (Exception e) when (e is DiffuseException or IOException or UnauthorizedAccessException)
        {
            classifier.Dispose();
            warn?.Invoke($"the cached classifier weights '{weightsPath}' are unreadable ({e.Message}); training a new classifier");
            return null;
        }
        classifier.eval();
        return new CachedClassifier(classifier, entry.ValidationAccuracy, FromCache: true);
    }
}
