import XCTest

@testable import CarriageStore

final class SlabClassesTests: XCTestCase {
    func testChunkSizesGrowByAQuarterInEightByteSteps() {
        let sizes = SlabClasses.chunkSizes
        XCTAssertEqual(sizes.first, 48)
        XCTAssertEqual(sizes.last, SlabClasses.pageSize)
        XCTAssertEqual(Array(sizes.prefix(5)), [48, 64, 80, 104, 136])
        for (smaller, larger) in zip(sizes, sizes.dropFirst()) {
            XCTAssertEqual(larger % 8, 0)
            XCTAssertGreaterThan(larger, smaller)
        }
        XCTAssertEqual(SlabClasses.large, sizes.count)
    }

    func testAnItemGoesToTheSmallestClassThatHoldsIt() {
        XCTAssertEqual(SlabClasses.classIndex(forItemSize: 1), 0)
        XCTAssertEqual(SlabClasses.classIndex(forItemSize: 48), 0)
        XCTAssertEqual(SlabClasses.classIndex(forItemSize: 49), 1)
        // The item: a 12-byte key and a 32-byte value.
        let item = ItemChunk.size(keyCount: 12, valueCount: 32)
        XCTAssertEqual(item, 77)
        XCTAssertEqual(SlabClasses.chunkSizes[SlabClasses.classIndex(forItemSize: item)], 80)
        for size in [100, 1_000, 30_000, 40_000, SlabClasses.pageSize] {
            let index = SlabClasses.classIndex(forItemSize: size)
            XCTAssertGreaterThanOrEqual(SlabClasses.chunkSizes[index], size)
            if index > 0 { XCTAssertLessThan(SlabClasses.chunkSizes[index - 1], size) }
        }
        XCTAssertEqual(SlabClasses.classIndex(forItemSize: SlabClasses.pageSize + 1), SlabClasses.large)
        XCTAssertEqual(SlabClasses.largeBlockSize(forItemSize: 65_537), 69_632)
    }

    func testChunkIDsRoundTrip() {
        for (slot, offset) in [(0, 0), (1, 8), (ChunkID.maxSlot, SlabClasses.pageSize - 8)] {
            let id = ChunkID(slot: slot, offset: offset)
            XCTAssertEqual(id.slot, slot)
            XCTAssertEqual(id.offset, offset)
            XCTAssertFalse(id.isNone)
            XCTAssertNotEqual(id, .freeMarker)
        }
    }
}
