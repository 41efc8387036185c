using System.Text;
using Diffuse.Build;
using Diffuse.Tests.IO;
using Xunit;

namespace Diffuse.Tests.Build;

public class ElfVersionNeedTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void TheOutputCopyIsWeakExactlyWhenTheSystemLibStdCxxLacksTheVersion()
    {
        Assert.True(File.Exists(OutputCopy), $"{OutputCopy} is missing");
        var system = ElfVersionNeed.FindSystemLibStdCxx();
        bool systemHasIt = system != null && ElfVersionNeed.DefinedVersions(File.ReadAllBytes(system)).Contains(Version);

        var flags = ElfVersionNeed.NeedFlags(File.ReadAllBytes(OutputCopy), Version);

        Assert.NotNull(flags);
        Assert.Equal(!systemHasIt, (flags.Value & ElfVersionNeed.VerFlgWeak) != 0);
    }

    [Fact]
    public void TheSystemLibStdCxxDefinesItsOwnBaseVersions()
    {
        var system = ElfVersionNeed.FindSystemLibStdCxx();
        Assert.NotNull(system);
        var versions = ElfVersionNeed.DefinedVersions(File.ReadAllBytes(system));
        Assert.Contains("GLIBCXX_3.4", versions);
        Assert.Contains("CXXABI_1.3", versions);
        Assert.DoesNotContain("GLIBCXX_9.9.99", versions);
    }

    [FactWithOriginalLibrary]
    public void TheNuGetCacheKeepsTheOriginalStrongNeed()
    {
        var flags = ElfVersionNeed.NeedFlags(File.ReadAllBytes(OriginalLibrary.Path!), Version);
        Assert.NotNull(flags);
        Assert.Equal(0, flags.Value & ElfVersionNeed.VerFlgWeak);
    }

    [FactWithOriginalLibrary]
    public void MarkWeakChangesOnlyTheFlagsOfTheNeedAndThenReportsAlreadyWeak()
    {
        var original = File.ReadAllBytes(OriginalLibrary.Path!);
        var bytes = (byte[])original.Clone();
        ushort before = ElfVersionNeed.NeedFlags(bytes, Version)!.Value;

        Assert.Equal(PatchOutcome.Patched, ElfVersionNeed.MarkWeak(bytes, Version));

        Assert.Equal(original.Length, bytes.Length);
        var changed = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != original[i]).ToArray();
        Assert.NotEmpty(changed);
        // VER_FLG_WEAK lies in the low byte of the little-endian vna_flags, so exactly that byte changes.
        Assert.Single(changed);
        int at = changed[0];
        ushort after = ElfVersionNeed.NeedFlags(bytes, Version)!.Value;
        Assert.Equal(before | ElfVersionNeed.VerFlgWeak, after);
        Assert.Equal(before, (ushort)(original[at] | original[at + 1] << 8));
        Assert.Equal(after, (ushort)(bytes[at] | bytes[at + 1] << 8));

        var patched = (byte[])bytes.Clone();
        Assert.Equal(PatchOutcome.AlreadyWeak, ElfVersionNeed.MarkWeak(bytes, Version));
        Assert.Equal(patched, bytes);
    }

    [FactWithOriginalLibrary]
    public void MarkWeakReportsANeedTheLibraryDoesNotHave()
    {
        var bytes = File.ReadAllBytes(OriginalLibrary.Path!);
        var copy = (byte[])bytes.Clone();
        Assert.Null(ElfVersionNeed.NeedFlags(bytes, "GLIBCXX_9.9.99"));
        Assert.Equal(PatchOutcome.EntryAbsent, ElfVersionNeed.MarkWeak(bytes, "GLIBCXX_9.9.99"));
        Assert.Equal(copy, bytes);
    }

    [FactWithOriginalLibrary]
    public void PatchFileIsIdempotent()
    {
        using var folder = new TempFolder();
        var lib = folder.File("libLibTorchSharp.so");
        File.Copy(OriginalLibrary.Path!, lib);

        Assert.Equal(PatchOutcome.Patched, ElfVersionNeed.PatchFile(lib, Version, systemLibStdCxx: null));
        var once = File.ReadAllBytes(lib);
        Assert.NotEqual(0, ElfVersionNeed.NeedFlags(once, Version)!.Value & ElfVersionNeed.VerFlgWeak);

        Assert.Equal(PatchOutcome.AlreadyWeak, ElfVersionNeed.PatchFile(lib, Version, systemLibStdCxx: null));
        Assert.Equal(once, File.ReadAllBytes(lib));
        Assert.Equal(["libLibTorchSharp.so"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [FactWithOriginalLibrary]
    public void PatchFileBreaksAHardLinkInsteadOfWritingThroughIt()
    {
        using var folder = new TempFolder();
        var source = folder.File("cache.so");
        var lib = folder.File("output.so");
        File.Copy(OriginalLibrary.Path!, source);
        Assert.Equal(0, link(source, lib));
        var original = File.ReadAllBytes(source);

        Assert.Equal(PatchOutcome.Patched, ElfVersionNeed.PatchFile(lib, Version, systemLibStdCxx: null));

        Assert.Equal(original, File.ReadAllBytes(source));
        Assert.NotEqual(original, File.ReadAllBytes(lib));
    }

    [FactWithOriginalLibrary]
    public void AMachineWithANewerLibStdCxxGetsTheFileUntouched()
    {
        var system = ElfVersionNeed.FindSystemLibStdCxx();
        Assert.NotNull(system);
        using var folder = new TempFolder();
        var fake = folder.File("libstdc++.so.6");
        var systemBytes = File.ReadAllBytes(system);
        if (!ElfVersionNeed.DefinedVersions(systemBytes).Contains(Version))
            RenameDefinedVersion(systemBytes, "GLIBCXX_3.4.30", Version);
        File.WriteAllBytes(fake, systemBytes);
        Assert.Contains(Version, ElfVersionNeed.DefinedVersions(File.ReadAllBytes(fake)));
        var lib = folder.File("libLibTorchSharp.so");
        File.Copy(OriginalLibrary.Path!, lib);
        var before = File.ReadAllBytes(lib);

        Assert.Equal(PatchOutcome.NotNeeded, ElfVersionNeed.PatchFile(lib, Version, fake));

        Assert.Equal(before, File.ReadAllBytes(lib));
    }

    [FactWithOriginalLibrary]
    public void AMachineWithAnOlderLibStdCxxGetsTheNeedWeakened()
    {
        var system = ElfVersionNeed.FindSystemLibStdCxx();
        Assert.NotNull(system);
        using var folder = new TempFolder();
        var old = folder.File("libstdc++.so.6");
        var systemBytes = File.ReadAllBytes(system);
        if (ElfVersionNeed.DefinedVersions(systemBytes).Contains(Version))
            RenameDefinedVersion(systemBytes, Version, "GLIBCXX_3.4.99");
        File.WriteAllBytes(old, systemBytes);
        var lib = folder.File("libLibTorchSharp.so");
        File.Copy(OriginalLibrary.Path!, lib);

        Assert.Equal(PatchOutcome.Patched, ElfVersionNeed.PatchFile(lib, Version, old));

        Assert.NotEqual(0, ElfVersionNeed.NeedFlags(File.ReadAllBytes(lib), Version)!.Value & ElfVersionNeed.VerFlgWeak);
    }

    [Fact]
    public void ANonElfFileIsInvalidData()
    {
        using var folder = new TempFolder();
        var text = folder.File("not-elf.so");
        File.WriteAllText(text, new string('x', 200));
        var bytes = File.ReadAllBytes(text);

        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.NeedFlags(bytes, Version));
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.MarkWeak(bytes, Version));
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.DefinedVersions(bytes));
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.PatchFile(text, Version, systemLibStdCxx: null));
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.NeedFlags([0x7f, (byte)'E', (byte)'L', (byte)'F'], Version));
        Assert.Equal(bytes, File.ReadAllBytes(text));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int link(string oldPath, string newPath);

    /// <summary>Replaces the NUL-terminated string <paramref name="from"/> in the dynamic string table by one of the same length.</summary>
    static void RenameDefinedVersion(byte[] elf, string from, string to)
    {
        Assert.Equal(from.Length, to.Length);
        var needle = Encoding.ASCII.GetBytes("\0" + from + "\0");
        var verdef = ElfVersionNeed.Sections(elf).Single(s => s.Type == 0x6ffffffd);
        var dynstr = ElfVersionNeed.Sections(elf)[(int)verdef.Link];
        int at = elf.AsSpan((int)dynstr.Offset, (int)dynstr.Size).IndexOf(needle);
        Assert.True(at >= 0, $"{from} is not in the dynamic string table");
        Encoding.ASCII.GetBytes(to).CopyTo(elf, dynstr.Offset + at + 1);
    }
}

/// <summary>The unpatched libLibTorchSharp.so in the NuGet package cache, if there is one.</summary>
static class OriginalLibrary
{
    public static string? Path { get; } = Find();

    static string? Find()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root))
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(home)) return null;
            root = System.IO.Path.Combine(home, ".nuget", "packages");
        }
        var path = System.IO.Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }
}

/// <summary>A fact that is skipped when the NuGet cache holds no original libLibTorchSharp.so.</summary>
sealed class FactWithOriginalLibraryAttribute : FactAttribute
{
    public FactWithOriginalLibraryAttribute()
    {
        if (OriginalLibrary.Path is null) Skip = "the NuGet cache has no torchsharp/0.107.0 libLibTorchSharp.so";
    }
}
