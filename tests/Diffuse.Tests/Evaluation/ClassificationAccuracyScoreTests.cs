using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public class ClassificationAccuracyScoreTests
{
    static readonly string[] Names = ["dark/top", "bright"];

    /// <summary>Labelled 8x8 images: class 0 dark on top, class 1 bright everywhere, with a little noise (uint8).</summary>
    static ImageDataset Dataset(string name, int perClass, long seed, bool swapLabels = false)
    {
        using var g = new Generator((ulong)seed);
        var labels = arange(2 * perClass, ScalarType.Int64) % 2;
        var rows = arange(8).view(1, 1, 8, 1).expand(2 * perClass, 1, 8, 8);
        var bright = labels.view(-1, 1, 1, 1).eq(1);
        var value = where(bright, full([2 * perClass, 1, 8, 8], 220f), where(rows < 4, full([2 * perClass, 1, 8, 8], 20f), full([2 * perClass, 1, 8, 8], 120f)));
        var pixels = (value + 10 * randn([2 * perClass, 1, 8, 8], generator: g)).clamp(0, 255).to(ScalarType.Byte);
        return new ImageDataset(name, pixels, swapLabels ? 1 - labels : labels, Names);
    }

    [Fact]
    public void SyntheticImagesOfTheRightClassesScoreLikeRealOnesAndSwappedLabelsScoreNearZero()
    {
        using var real = Dataset("real", 40, 1);
        using var synthetic = Dataset("synthetic", 20, 2);
        var report = ClassificationAccuracyScore.Measure(synthetic, real, seed: 0);
        Assert.Equal(40, report.SyntheticImages);
        Assert.Equal(40, report.RealTrainImages);
        Assert.Equal(8, report.TestImages);
        Assert.True(report.SyntheticAccuracy >= 0.9, $"CAS {report.SyntheticAccuracy}");
        Assert.True(report.RealAccuracy >= 0.9, $"real {report.RealAccuracy}");

        using var swapped = Dataset("swapped", 20, 2, swapLabels: true);
        Assert.True(ClassificationAccuracyScore.Measure(swapped, real, seed: 0).SyntheticAccuracy <= 0.1);
    }

    [Fact]
    public void AnExportedFolderIsReadBackWithItsClassesMatchedByName()
    {
        using var real = Dataset("real", 40, 1);
        using var synthetic = Dataset("synthetic", 10, 3);
        var folder = Path.Combine(Path.GetTempPath(), $"diffuse-cas-{Guid.NewGuid():N}");
        try
        {
            using var images = synthetic.ToImages();
            var counts = LabelledImageFolder.Write(folder, images, synthetic.Labels.data<long>().ToArray(), Names, force: false);
            Assert.Equal([10L, 10L], counts);
            // "dark/top" cannot be a folder name; sorted, "bright" now comes first, so the labels must be matched by name.
            Assert.Equal(["bright", "dark-top"], Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            using var loaded = ImageDatasets.Load(folder, new ImageLoadOptions { ImageSize = 8, Channels = 1 });
            Assert.Equal(["bright", "dark-top"], loaded.ClassNames);
            var report = ClassificationAccuracyScore.Measure(loaded, real, seed: 0);
            Assert.True(report.SyntheticAccuracy >= 0.9, $"CAS {report.SyntheticAccuracy}");
            Assert.Throws<DiffuseException>(() => LabelledImageFolder.Write(folder, images, synthetic.Labels.data<long>().ToArray(), Names, force: false));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AFailedWriteLeavesNothingBehind()
    {
        using var synthetic = Dataset("synthetic", 2, 3);
        var parent = Path.Combine(Path.GetTempPath(), $"diffuse-cas-{Guid.NewGuid():N}");
        Directory.CreateDirectory(parent);
        try
        {
            using var images = synthetic.ToImages();
            // Two classes whose folder names clash: refused before anything is written.
            Assert.Throws<DiffuseException>(() => LabelledImageFolder.Write(Path.Combine(parent, "out"), images, [0, 1, 0, 1], ["a/b", "a-b"], force: false));
            // A label outside the classes.
            Assert.Throws<DiffuseException>(() => LabelledImageFolder.Write(Path.Combine(parent, "out"), images, [0, 1, 0, 2], Names, force: false));
            Assert.Empty(Directory.GetFileSystemEntries(parent));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
